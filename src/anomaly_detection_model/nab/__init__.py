"""The Numenta Anomaly Benchmark: corpus loading, NAB's scoring rules, threshold optimisation,
and the results layout NAB's own tools read. Works on any NAB-layout folder."""
