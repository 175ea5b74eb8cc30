"""``python -m callscale.cli``."""

from callscale.cli import main

main()
