"""`python -m amtopcon`."""

import sys

from amtopcon._entry import main

if __name__ == "__main__":
    sys.exit(main())
