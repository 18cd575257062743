"""``python -m crawler.cli``: the same as the ``osce-archive`` command."""

import sys

from crawler.cli import main

sys.exit(main())
