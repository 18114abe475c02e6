"""`python -m amtopcon`."""

import sys

from amtopcon.cli import main

if __name__ == "__main__":
    sys.exit(main())
