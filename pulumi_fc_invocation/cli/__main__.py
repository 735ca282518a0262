"""``python -m pulumi_fc_invocation.cli``: the ``fc-invocation`` command."""

import sys

from . import main

sys.exit(main())
