"""``python -m mlsysim`` runs the command line."""
from .cli.main import main

main()
