"""``python -m gankit ...``: see :mod:`gankit.cli`."""

from .cli import main

raise SystemExit(main())
