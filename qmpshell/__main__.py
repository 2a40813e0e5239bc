"""Allow ``python -m qmpshell``."""

from qmpshell.cli.main import main

raise SystemExit(main())
