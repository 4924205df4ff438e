"""Load and latency benchmarks that print their figures (`python -m bench.<name>`)."""
