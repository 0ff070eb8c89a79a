"""`python -m psgdiag`."""

from psgdiag.cli import main

main()
