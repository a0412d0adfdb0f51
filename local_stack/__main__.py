"""``python -m local_stack serve|invoke|demo`` (see :mod:`local_stack.cli`)."""

from local_stack.cli import main

raise SystemExit(main())
