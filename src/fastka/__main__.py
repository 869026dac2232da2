"""``python -m fastka``: the ``fastka`` command."""

from .cli import main

main()
