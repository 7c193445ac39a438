"""Pure numerics of the observatory: numpy in, numpy out, numba inside.

No I/O lives here. Each kernel has three layers: a compiled inner loop (``_jit`` modules), a
numpy entry point that validates every argument before the JIT code runs, and (where useful)
a thin xarray wrapper built on ``xr.apply_ufunc(..., dask="parallelized")``.
"""

from kernels.errors import KernelInputError

__all__ = ["KernelInputError"]
