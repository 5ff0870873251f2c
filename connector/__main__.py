"""``python -m connector`` runs the command line (used by crash-and-resume tests)."""

from connector.cli import main

main()
