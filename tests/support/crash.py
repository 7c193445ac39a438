"""Run the CLI with a SIGKILL injected into the store's writes (fault injection from the tests,
not from production code): ``python -m tests.support.crash N socobs-args...`` kills the process
at the Nth chunked write of the store (``to_icechunk`` call), before the commit."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import pipeline.store
from pipeline.cli import main


def install(n: int) -> None:
    real = pipeline.store.to_icechunk
    calls = 0

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == n:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    pipeline.store.to_icechunk = counting  # type: ignore[assignment]


if __name__ == "__main__":
    install(int(sys.argv[1]))
    sys.argv = ["socobs", *sys.argv[2:]]
    main()
