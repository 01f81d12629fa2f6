"""pytest's configuration for the chapter notebooks: nbval runs them in quick mode.

The kernels that nbval starts inherit this environment. An explicit ALEXNET_QUICK=0 is kept,
for a maintainer who checks full mode on a GPU on purpose. No CPU kernels are pinned: every
output nbval compares prints the same on any CPU (trained numbers come from the claims' records
or are ignored and followed by a check).
"""

import os

os.environ.setdefault("ALEXNET_QUICK", "1")
for name in [n for n in os.environ if n.startswith("TQDM_")]:  # e.g. TQDM_DISABLE=1: the chapters' bars are theirs
    del os.environ[name]
