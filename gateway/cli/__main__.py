"""`python -m gateway.cli`: the `kindred` command, for processes the demo starts."""

from gateway.cli import main

main()
