"""``python -m emulator`` runs the ``kemu`` CLI."""

from emulator.cli import main

main()
