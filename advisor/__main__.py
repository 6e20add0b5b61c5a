"""``python -m advisor`` runs the ``advisor`` command line."""

from advisor.cli import main

main()
