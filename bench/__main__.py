"""The benchmarks: `python -m bench [--quick] [--scenarios ...]` (or `make bench`).

Without a subcommand it runs the stack benchmark (`bench.stack`): `cloudstore up` under wrk, one table of
requests/s, p50, p99 and CPU per scenario, on an empty and then on a seeded database. `python -m bench
gateway [ARGS...]` runs the gateway's own relay benchmark alone (`bench.gateway`), which needs no auth server.
"""

from __future__ import annotations

import sys

from bench.gateway.__main__ import main as gateway_main
from bench.stack.__main__ import main as stack_main


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the chosen benchmark; its exit status is ours."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["gateway"]:
        return gateway_main(args[1:]) or 0
    return stack_main(args)


if __name__ == "__main__":
    sys.exit(main())
