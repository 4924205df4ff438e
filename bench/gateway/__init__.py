"""Gateway relay benchmark: `python -m bench.gateway`."""
