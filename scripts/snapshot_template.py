"""Release step: archive the built-in template as the version being released.

    python scripts/snapshot_template.py            # uses asgigen.__version__

The archive lands in asgigen/template_history/ and ships in the wheel, so that
`asgigen update` can merge projects made with this version into later ones, offline.
"""

from __future__ import annotations

import sys

from asgigen import __version__
from asgigen.generate import builtin_template
from asgigen.update import snapshot

if __name__ == "__main__":
    version = sys.argv[1] if len(sys.argv) > 1 else __version__
    print(snapshot(builtin_template(), version))
