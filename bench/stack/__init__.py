"""The stack benchmark: `cloudstore up` driven by wrk, one table of requests/s, latency and CPU."""
