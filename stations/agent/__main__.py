"""``python -m stations.agent``: see :mod:`stations.agent.cli`."""

import sys

from stations.agent.cli import main

sys.exit(main())
