"""The exception hierarchy of the pipeline package, and how messages quote user input.

Every message says what was expected, what was received and how to fix it; the CLI prints
the message (no traceback) as one paragraph and exits with code 2. A message quotes at most
``MAX_QUOTE`` characters of what the user gave (``clip``): a 266 MB job file must not come
back as a 266 MB error.
"""

import errno
import re

MAX_QUOTE = 200
_PERMISSION = re.compile(
    r"permission denied|operation not permitted|read-only file system|os error (1|13|30)\b", re.I
)


def clip(text: object, limit: int = MAX_QUOTE) -> str:
    """``text`` as a string of at most ``limit`` characters, cut with an ellipsis."""
    s = str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def quote(value: object, limit: int = MAX_QUOTE) -> str:
    """``repr(value)`` clipped to ``limit`` characters, for quoting user input in a message."""
    return clip(repr(value), limit)


def permission_denied(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it was raised from) is a refused write or read: a
    PermissionError, EROFS, or a library's wrapped OS error saying so (icechunk reports
    "Permission denied (os error 13)" in its message)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, PermissionError):
            return True
        if isinstance(cur, OSError) and cur.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return True
        if _PERMISSION.search(str(cur)[:5000]):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


class PipelineError(Exception):
    """Base class of every error the pipeline reports to a user."""


class InputFileError(PipelineError):
    """A user-supplied file (region set, site file, job file) is missing or malformed."""


class RegionError(PipelineError):
    """A region set is inconsistent (ids, parents, CRS, geometry)."""


class CatalogError(PipelineError):
    """A STAC catalog cannot be written, read or served."""


class ServerError(PipelineError):
    """A local server (the STAC API) could not be started or did not become ready."""
