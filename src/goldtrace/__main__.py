"""``python -m goldtrace`` runs the CLI."""

from goldtrace.cli import main

main()
