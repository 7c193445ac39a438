"""``pipeline.memory.release_freed``: freed heap memory that glibc keeps is given back, in a real
child process (its RSS read from /proc), not only claimed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from pipeline.memory import release_freed

CHILD = textwrap.dedent(
    """
    import ctypes, json, threading
    from pipeline.memory import release_freed

    def rss_mib():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    held = []

    def work():
        # 256 MiB in 64 KiB blocks (below the mmap threshold: they come from the heap), each
        # touched; then every block but the last freed, so the free space is not at the heap's
        # top and glibc's automatic trim cannot give it back
        blocks = [libc.malloc(65536) for _ in range(4096)]
        for b in blocks:
            ctypes.memset(b, 1, 65536)
        for b in blocks[:-1]:
            libc.free(b)
        held.append(blocks[-1])

    t = threading.Thread(target=work)  # a thread's own arena, as a tile worker has
    t.start(); t.join()
    before = rss_mib()
    done = release_freed()
    after = rss_mib()
    print(json.dumps({"before": before, "after": after, "done": done}))
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim is Linux's")
def test_freed_heap_pages_go_back_to_the_system():
    import json

    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, check=True
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["done"] is True
    # the child held ~256 MiB of freed heap before the call and gave at least 200 MiB of it back
    assert r["before"] - r["after"] > 200, r


def test_release_freed_says_whether_it_could():
    assert release_freed() is sys.platform.startswith("linux")
