"""``python -m xbearer``: the command line."""

from .cli import main

raise SystemExit(main())
