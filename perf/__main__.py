"""`python -m perf [--quick] [--only cache,method] [--real-size]` from the repository's root."""

import sys

from editbench.errors import EditbenchError
from perf.runner import main

try:
    sys.exit(main(sys.argv[1:]))
except EditbenchError as exc:
    print(f"editbench perf: error: {exc}", file=sys.stderr)
    sys.exit(2)
