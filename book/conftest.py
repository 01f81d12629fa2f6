"""pytest's configuration for the chapter notebooks: nbval runs them in quick mode.

The kernels that nbval starts inherit this environment. An explicit ALEXNET_QUICK=0 is kept,
for a maintainer who checks full mode on a GPU on purpose.
"""

import os

os.environ.setdefault("ALEXNET_QUICK", "1")
