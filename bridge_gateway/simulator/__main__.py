"""Entry point of ``python -m bridge_gateway.simulator``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
