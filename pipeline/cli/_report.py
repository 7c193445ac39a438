"""How a failed command is reported: one paragraph on stderr, never a traceback.

- usage errors (unknown command or option, missing argument, bad type, bad choice): what the
  parser expected, what it received, and the `--help` to read; exit 2;
- ``PipelineError``/``KernelInputError`` (bad input the pipeline found): its message; exit 2;
- refused reads/writes (permissions, read-only file systems) and other operating-system errors
  with a path: what could not be done to which path, and the fix; exit 2;
- anything else is a bug: one paragraph saying so and where the full traceback was written (a
  ``socobs-*.log`` file in the system temp folder), or the traceback itself under ``--debug``;
  exit 1.

Every message is cut to ``MAX_MESSAGE`` characters and quotes at most ``MAX_QUOTE`` characters
of any single piece of input.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from pipeline.errors import MAX_QUOTE, clip, permission_denied, quote

MAX_MESSAGE = 2000
_LONG_RUN = re.compile(r"\S{" + str(MAX_QUOTE + 1) + ",}")
_LONG_QUOTE = re.compile(r"'[^'\n]{" + str(MAX_QUOTE + 1) + r",}'")


def paragraph(text: str) -> str:
    """``text`` as one paragraph: no blank lines, long runs of input clipped, bounded length."""
    lines = [ln.rstrip() for ln in str(text).strip().splitlines() if ln.strip()]
    out = "\n".join(lines)
    out = _LONG_QUOTE.sub(lambda m: clip(m.group(0)) + "'", out)
    out = _LONG_RUN.sub(lambda m: clip(m.group(0)), out)
    return clip(out, MAX_MESSAGE)


def _received(exc: Any, argv: list[str]) -> str | None:
    """The value the user gave for the option a BadParameter names, read back from argv."""
    opts = list(getattr(getattr(exc, "param", None), "opts", None) or [])
    if not opts or not str(opts[0]).startswith("-"):
        return None
    got = None
    for i, tok in enumerate(argv):
        for opt in opts:
            if tok == opt and i + 1 < len(argv):
                got = argv[i + 1]
            elif tok.startswith(opt + "="):
                got = tok[len(opt) + 1 :]
    return got


def _usage(ctx: Any) -> str:
    text = ctx.get_usage().strip() if ctx is not None else "Usage: socobs [OPTIONS] COMMAND [ARGS]..."
    return re.sub(r"\{([^}]*)\}", lambda m: m.group(1).upper(), text).removeprefix("Usage: ")


def usage_message(exc: Any, argv: list[str]) -> str:
    """One paragraph for a click/typer usage error: what went wrong, the usage, the help to read."""
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "socobs"
    msg = exc.format_message().strip().replace("Value error, ", "")
    msg = re.sub(r"\{([^}]*)\}", lambda m: m.group(1).upper(), msg)
    got = _received(exc, argv)
    if got is not None and quote(got) not in msg:
        msg = f"{msg.rstrip('.')} (got {quote(got)})."
    if not msg.endswith((".", "?", "!")):
        msg += "."
    expected = f"Usage: `{_usage(ctx)}`."
    cmd = getattr(ctx, "command", None)
    if cmd is not None and hasattr(cmd, "list_commands") and "command" in msg.lower():
        expected = f"Expected one of the commands: {', '.join(cmd.list_commands(ctx))}."
    return f"{path}: {msg} {expected} See `{path} --help`."


def os_message(exc: OSError) -> str:
    """One paragraph for an operating-system error the pipeline did not turn into its own."""
    where = exc.filename if exc.filename is not None else "a file"
    reason = exc.strerror or type(exc).__name__
    if permission_denied(exc):
        return (
            f"cannot access {quote(str(where))}: permission denied ({reason}). Choose a path this "
            "user may write (e.g. another --var or --store) or fix its permissions."
        )
    return f"cannot use {quote(str(where))}: {reason}. Check the path given on the command line and the disk."


def _log_dir() -> Path:
    return Path(tempfile.gettempdir())


def internal_message(exc: BaseException, argv: list[str], debug: bool) -> str:
    """One paragraph for a bug; the traceback goes to a log file (or to stderr under --debug)."""
    tb = "".join(traceback.format_exception(exc))
    what = f"{type(exc).__name__}: {clip(exc)}"
    if debug:
        sys.stderr.write(tb)
        return f"internal error ({what}); the traceback is above. This is a bug in socobs: please report it."
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        fd, name = tempfile.mkstemp(prefix=f"socobs-{stamp}-", suffix=".log", dir=_log_dir())
        with os.fdopen(fd, "w") as fh:
            fh.write(f"socobs {' '.join(argv)}\n\n{tb}")
        where = f"the full traceback is in {name}"
    except OSError:
        where = "the traceback could not be written to a file"
    return (
        f"internal error: {what}. This is a bug in socobs, not a problem with your input; {where}. "
        "Run the command again with `socobs --debug ...` to print it, and please report it."
    )
