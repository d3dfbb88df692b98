"""``python -m deploy.local.stack <command>``: the stack's command line (``deploy.local.cli``).

The command line lives in its own module so that the stack library never imports it:
``cli`` imports ``deploy.local.stack``, nothing imports back.
"""

import sys

from deploy.local.cli import main

sys.exit(main())
