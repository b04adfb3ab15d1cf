import sys

from liuhen.cli import main

sys.exit(main())
