"""Flex Template launcher program: builds the pipeline from the template's parameters and
returns once the job is submitted (Dataflow's launcher must not wait for the job)."""

from telemetry_pipeline.beam.pipeline import run

if __name__ == "__main__":
    run(wait=False)
