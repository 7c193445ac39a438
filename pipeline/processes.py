"""Child processes that never outlive the observatory, and signals that stop it in order.

The one place that starts the long-running children (the rustac STAC server, the observatory
API): :func:`spawn_child` runs every command under a *watchdog*, this very file run as a script
by the same interpreter (``python -I -S processes.py ... -- CMD``; it imports the standard
library only, so it needs nothing installed and starts in a few tens of milliseconds).

The watchdog

- runs in its own session and process group with the command, so a terminal's Ctrl-C or
  hang-up reaches only the parent, which then stops its children in order;
- holds the read end of a *lifeline* pipe whose write end only the parent holds. However the
  parent ends (SIGKILL and crashes included) the kernel closes the write end and the watchdog
  reads end-of-file; it also notices its parent pid changing (should a fork leak the write end);
- then stops the command (its stop signal, SIGKILL after a grace period), removes the scratch
  folders it was given, and exits with the command's status (128+N when signal N ended it);
- on Linux also sets ``PR_SET_PDEATHSIG`` on the command, so the command dies even when the
  watchdog itself is killed (then re-checks its parent, closing the race with prctl).

Why not ``PR_SET_PDEATHSIG`` from a ``preexec_fn`` in the parent: ``preexec_fn`` is unsafe in a
threaded parent (the demo runs dask, numba and icechunk threads), the death signal fires when
the *thread* that started the child ends rather than the process, it does not exist on macOS,
and it cannot remove a scratch folder. The watchdog works for any command (rustac is not
Python); its own ``preexec_fn`` is safe because the watchdog is single-threaded.

:func:`stop_on_signals` turns SIGTERM, SIGHUP and SIGINT into :class:`Interrupted` (a
``KeyboardInterrupt``) in the main thread, and on leaving stops every child started inside it.
"""

from __future__ import annotations

import _thread
import contextlib
import functools
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
DEFAULT_GRACE = 3.0  # seconds between the stop signal and SIGKILL
_WATCHDOG = str(Path(__file__).resolve())
_RUNNING: dict[int, Child] = {}  # watchdog pid -> child, until stopped


class Interrupted(KeyboardInterrupt):
    """SIGTERM, SIGHUP or SIGINT arrived inside :func:`stop_on_signals`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def signal_name(exc: BaseException) -> str:
    """``SIGTERM`` for an :class:`Interrupted`, ``SIGINT`` for a plain ``KeyboardInterrupt``."""
    return signal.Signals(getattr(exc, "signum", signal.SIGINT)).name


def exit_status(exc: BaseException) -> int:
    """The conventional exit status of a process ended by this interruption (128 + N)."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


@dataclass(eq=False)
class Child:
    """A command running under its watchdog. ``process`` is the watchdog (pid = process group);
    its exit status is the command's, 128+N when signal N ended the command."""

    name: str
    process: subprocess.Popen[bytes]
    lifeline: int  # write end; closing it (or exiting) tells the watchdog to stop the command
    grace: float
    cleanup: tuple[Path, ...] = ()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def running(self) -> bool:
        return self.process.poll() is None

    def request_stop(self) -> None:
        """Ask the watchdog to stop the command (returns at once; see :meth:`wait_stopped`)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self, timeout: float | None = None) -> None:
        """Wait for the watchdog to finish; past ``timeout`` kill the whole process group."""
        try:
            self.process.wait(self.grace + 2.0 if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            # Not reaped yet, so the group id (the watchdog's pid) cannot have been reused.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._release()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the command: its stop signal, SIGKILL after the grace period; remove scratch."""
        self.request_stop()
        self.wait_stopped(timeout)

    def _release(self) -> None:
        if self.lifeline >= 0:
            os.close(self.lifeline)
            self.lifeline = -1
        for d in self.cleanup:  # the watchdog removed them unless it was killed
            shutil.rmtree(d, ignore_errors=True)
        _RUNNING.pop(self.process.pid, None)


def spawn_child(
    cmd: Sequence[str],
    *,
    name: str,
    stdout: int | IO[Any] | None = None,
    stderr: int | IO[Any] | None = None,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    stop_signal: int = signal.SIGTERM,
    grace: float = DEFAULT_GRACE,
    cleanup: Iterable[Path] = (),
) -> Child:
    """Start ``cmd`` under a watchdog (see the module docstring); stdin is /dev/null, stdout and
    stderr are passed on as given. ``cleanup`` folders are removed once the command has ended."""
    dirs = tuple(Path(d) for d in cleanup)
    read_end, write_end = os.pipe()  # both non-inheritable; only the read end is passed on
    argv = [
        sys.executable,
        "-I",
        "-S",
        _WATCHDOG,
        "--parent",
        str(os.getpid()),
        "--lifeline",
        str(read_end),
        "--grace",
        str(grace),
        "--signal",
        str(int(stop_signal)),
    ]
    for d in dirs:
        argv += ["--cleanup", str(d)]
    try:
        proc = subprocess.Popen(
            [*argv, "--", *cmd],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=env,
            cwd=cwd,
            pass_fds=(read_end,),
            start_new_session=True,
        )
    except BaseException:
        os.close(write_end)
        raise
    finally:
        os.close(read_end)
    child = Child(name, proc, write_end, grace, dirs)
    _RUNNING[proc.pid] = child
    return child


def stop_children(children: Iterable[Child], timeout: float | None = None) -> None:
    """Stop several children at once: signal them all, then wait for each."""
    todo = [c for c in children if c.lifeline >= 0]
    for c in todo:
        c.request_stop()
    for c in todo:
        c.wait_stopped(timeout)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Inside the block, the first SIGTERM, SIGHUP or SIGINT raises :class:`Interrupted` in the
    main thread (later ones are ignored while the block cleans up, which is bounded by the stop
    grace periods); on leaving, every child started inside and still running is stopped and the
    previous handlers come back. A signal that was ignored when the block began (``nohup``, a
    background job's SIGINT) stays ignored. Outside the main thread only the stopping applies."""
    before = set(_RUNNING)
    fired: list[int] = []

    def handler(signum: int, frame: object) -> None:
        if not fired:
            fired.append(signum)
            raise Interrupted(signum)

    def unraisable(info: Any) -> None:
        """Python runs a signal handler at the next bytecode of the main thread, and that can be
        inside a finalizer (a ``weakref.finalize`` callback, a ``__del__`` run by the garbage
        collector), where an exception is printed as "Exception ignored in" and dropped. Such a
        dropped :class:`Interrupted` is delivered again instead, from another thread a moment
        later (delivered at once it would run inside this very hook and be dropped again)."""
        if isinstance(info.exc_value, Interrupted) and fired and 0 not in fired:
            fired.clear()
            again = threading.Timer(0.01, _thread.interrupt_main, (info.exc_value.signum,))
            again.daemon = True
            again.start()
            return
        previous_hook(info)

    previous: dict[signal.Signals, Any] = {}
    previous_hook = sys.unraisablehook
    if threading.current_thread() is threading.main_thread():
        for s in STOP_SIGNALS:
            if s == signal.SIGTERM or signal.getsignal(s) is not signal.SIG_IGN:
                previous[s] = signal.signal(s, handler)
        sys.unraisablehook = unraisable
    waker = _Waker(set(previous), before) if previous else None
    try:
        yield
    finally:
        fired.append(0)  # a signal during the (bounded) stopping below is ignored
        try:
            stop_children([c for pid, c in list(_RUNNING.items()) if pid not in before])
        finally:
            if waker is not None:
                waker.close()
            for sig, h in previous.items():
                signal.signal(sig, h)
            if previous:
                sys.unraisablehook = previous_hook


class _Waker:
    """Stops the children at the moment a stop signal arrives, not when the main thread next runs
    Python code. Python runs signal handlers between bytecodes of the main thread, so while that
    thread sits in a long native call (a numba kernel, an Icechunk commit, a blocking read) the
    handler waits, and the children with it. The C-level handler writes the signal's number to
    the wakeup fd at once; this thread reads it and asks every child started inside the block to
    stop (idempotent: the main thread's own stopping follows when it gets there)."""

    def __init__(self, signals: set[signal.Signals], before: set[int]) -> None:
        self._read, write = os.pipe()
        os.set_blocking(write, False)
        self._write = write
        self._signals = {int(s) for s in signals}
        self._before = before
        self._previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        self._thread = threading.Thread(target=self._watch, name="stop-on-signal", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while True:
            try:
                data = os.read(self._read, 64)
            except OSError:
                return
            if not data:
                return  # close(): the write end is gone
            if any(b in self._signals for b in data):
                for pid, c in list(_RUNNING.items()):
                    if pid not in self._before:
                        c.request_stop()

    def close(self) -> None:
        signal.set_wakeup_fd(self._previous, warn_on_full_buffer=False)
        os.close(self._write)
        self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            os.close(self._read)


# --- the watchdog (run as a script; standard library only) -------------------------------------


def _die_with_parent(watchdog: int, prctl: Any) -> None:
    """preexec_fn of the watched command (in the single-threaded watchdog): SIGTERM when the
    watchdog dies (Linux); exit at once if it already did (the race with prctl)."""
    if prctl is not None:
        prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != watchdog:
        os._exit(1)


def _prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    return ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork, not in the child


def _parse(argv: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    split = argv.index("--")
    opts: dict[str, list[str]] = {}
    for key, value in zip(argv[:split:2], argv[1:split:2], strict=True):
        opts.setdefault(key.lstrip("-"), []).append(value)
    return opts, argv[split + 1 :]


def _watch(argv: list[str]) -> int:
    opts, cmd = _parse(argv)
    parent, lifeline = int(opts["parent"][0]), int(opts["lifeline"][0])
    grace, stop_signal = float(opts["grace"][0]), int(opts["signal"][0])
    cleanup = opts.get("cleanup", [])
    requested: list[int] = []
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)  # any handled signal (SIGCHLD too) wakes select() below
    for s in STOP_SIGNALS:
        signal.signal(s, lambda n, f: requested.append(n))
    signal.signal(signal.SIGCHLD, lambda n, f: None)
    child: subprocess.Popen[bytes] | None = None
    try:
        if os.getppid() != parent:
            return 1  # the parent is already gone: start nothing
        die = functools.partial(_die_with_parent, os.getpid(), _prctl())
        child = subprocess.Popen(cmd, preexec_fn=die)  # safe: the watchdog is single-threaded
        while child.poll() is None and not requested and os.getppid() == parent:
            ready, _, _ = select.select([lifeline, wake_r], [], [], 0.5)
            if lifeline in ready and not os.read(lifeline, 512):
                break  # end of file: the parent has exited
            if wake_r in ready:
                os.read(wake_r, 512)
        if child.poll() is None:
            child.send_signal(stop_signal)
            try:
                child.wait(grace)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    finally:
        if child is not None and child.poll() is None:  # an unexpected error above
            child.kill()
            child.wait()
        for d in cleanup:
            shutil.rmtree(d, ignore_errors=True)
    rc = child.returncode
    assert rc is not None
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(_watch(sys.argv[1:]))
