"""`python -m tinynn ...` is the `tinynn` command."""
import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())
