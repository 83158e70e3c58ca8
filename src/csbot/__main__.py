"""``python -m csbot`` runs the command line."""

from csbot.serve.cli import main

main()
