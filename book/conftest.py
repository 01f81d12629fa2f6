"""pytest's configuration for the chapter notebooks: nbval runs them in quick mode.

The kernels that nbval starts inherit this environment. An explicit ALEXNET_QUICK=0 is kept,
for a maintainer who checks full mode on a GPU on purpose. On x86-64 the CPU kernels are pinned
to AVX2, so that trained numbers do not depend on whether the machine has AVX-512.
"""

import os

from alexnet.mode import pin_cpu_kernels

os.environ.setdefault("ALEXNET_QUICK", "1")
pin_cpu_kernels()  # the same kernels as the committed outputs were made with (alexnet.mode.CPU_PINS)
