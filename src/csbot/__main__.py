"""``python -m csbot`` runs the command line."""

from .cli import main

main()
