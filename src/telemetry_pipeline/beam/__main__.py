"""`python -m telemetry_pipeline.beam --runner=... [flags]`: the pipeline from the command line
(the Flex Template launcher runs the same `run()`)."""

from __future__ import annotations

import logging
import sys

from telemetry_pipeline.beam.pipeline import run


def main() -> int:
    logging.getLogger().setLevel(logging.INFO)
    try:
        # Dataflow's launcher must not block on the job: it returns once the job is submitted.
        run(wait=False)
    except ValueError as exc:  # a missing or inconsistent flag: say which, no traceback
        print(f"telemetry pipeline: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
