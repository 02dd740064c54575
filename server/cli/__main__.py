"""``python -m server.cli`` runs the same command as ``waterops``."""

from server.cli import main

main()
