"""Benchmarks: printed tables, run with `make bench`; never timed assertions in tests."""
