"""``python -m market`` runs the command line."""

from market.cli import main

main()
