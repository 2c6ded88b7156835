"""``python -m minirnn`` runs the ``minirnn`` command (see minirnn/cli.py)."""
import sys

from .cli import main

sys.exit(main())
