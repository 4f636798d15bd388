import sys

from escape_lens.cli import main

sys.exit(main())
