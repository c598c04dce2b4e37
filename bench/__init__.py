"""The benchmark runner: `python -m bench [--quick]` writes docs/benchmarks.md and .png."""
