"""Allow ``python -m qmpshell``."""

from qmpshell.cli import main

raise SystemExit(main())
