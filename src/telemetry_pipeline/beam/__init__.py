"""The Beam face of the pipeline: named composite transforms and the `run()` wiring.

The only package that imports apache_beam. Import it only where a pipeline is built: Beam
takes seconds to import.
"""
