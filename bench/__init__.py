"""Benchmarks, one module per capability: ``python -m bench.NAME [--quick]``."""
