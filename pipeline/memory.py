"""Freed memory given back to the operating system, so a long job's resident size follows what it
holds, not what it once held.

A tiled job allocates and frees the same few tile-sized arrays hundreds of times from several
threads. glibc's allocator keeps what is freed inside its heaps (one arena per thread that
allocated) for reuse, and returns it to the system only when the free space sits at a heap's top
(``M_TRIM_THRESHOLD``); after a large block is freed it also raises its mmap threshold (up to
32 MiB), so later tile arrays come from the heaps instead of their own mappings. Across many
tiles the heaps fragment and the process's RSS climbs with the number of tiles, not with the
tile. ``malloc_trim(0)`` releases every whole free page of every arena (``madvise``, glibc >=
2.8), wherever it lies in the heap: the same remedy dask documents for its workers ("Memory not
released back to the OS", distributed.dask.org, worker memory management).

Only glibc has ``malloc_trim``; elsewhere (macOS, musl) these functions do nothing and say so.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from typing import Any


@functools.cache
def _glibc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        lib = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return lib if hasattr(lib, "malloc_trim") else None


def release_freed() -> bool:
    """Give every whole free page of the allocator's heaps back to the system (glibc's
    ``malloc_trim(0)``); False where there is no such call. Takes well under a millisecond per
    100 MiB of heap: call it between tiles, not inside kernels."""
    lib = _glibc()
    if lib is None:
        return False
    lib.malloc_trim(0)
    return True
