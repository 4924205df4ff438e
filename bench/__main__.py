"""Every benchmark of the project, one after the other: `python -m bench [ARGS...]` (or `make bench`).

Each prints its own table; arguments are passed to each (e.g. `--duration 3`). Today: the gateway's relay
overhead (`python -m bench.gateway`).
"""

from __future__ import annotations

import sys

from bench.gateway.__main__ import main as gateway_main

BENCHMARKS = {"gateway": gateway_main}


def main(argv: list[str] | None = None) -> int:
    """Run each benchmark; the exit status is the first failure's."""
    status = 0
    for name, run in BENCHMARKS.items():
        print(f"== {name}", flush=True)
        status = status or (run(argv) or 0)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
