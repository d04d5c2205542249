"""Tests of the anomaly detection unit.

Nothing is faked here: the generated check suite (`test_detector_checks.py`) builds every
catalogued detector for real and feeds it synthetic streams. Sub-folders say in their own
conftest what, if anything, they fake.
"""
