"""`python -m telemetry_pipeline.beam --runner=... [flags]`: the Flex Template entry point."""

from __future__ import annotations

import logging

from telemetry_pipeline.beam.pipeline import run

if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)
    # Dataflow's launcher must not block on the job: it returns once the job is submitted.
    run(wait=False)
