"""JSON request bodies with limits checked before parsing: nesting depth on the raw bytes
(vectorised, strings and escapes respected), then orjson. The body's size is limited by the
``Front`` middleware on the bytes actually received."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from observatory_api.errors import BadParameter

MAX_DEPTH = 32
_OPEN = np.zeros(256, dtype=np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1


def depth(raw: bytes) -> int:
    """Deepest nesting of arrays/objects in a JSON text (brackets inside strings ignored)."""
    a = np.frombuffer(raw, dtype=np.uint8)
    step = _OPEN[a]
    at = np.flatnonzero(step)  # brackets only: a few per coordinate pair
    if at.size == 0:
        return 0
    quotes = np.flatnonzero(a == ord('"'))
    if quotes.size:
        slashes = np.flatnonzero(a == ord("\\"))
        if slashes.size:  # a quote is escaped when an odd number of backslashes end just before it
            brk = np.flatnonzero(np.diff(slashes) != 1)
            ends = np.r_[slashes[brk], slashes[-1]]
            lengths = ends - np.r_[slashes[0], slashes[brk + 1]] + 1
            i = np.minimum(np.searchsorted(ends, quotes - 1), ends.size - 1)
            quotes = quotes[~((ends[i] == quotes - 1) & (lengths[i] % 2 == 1))]
        in_string = np.searchsorted(quotes, at) % 2 == 1  # after an odd number of real quotes
        at = at[~in_string]
    return int(np.cumsum(step[at], dtype=np.int32).max(initial=0))


def parse_json(raw: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The document in ``raw``, or a 422 naming the body."""
    if not raw.strip():
        raise BadParameter("body: expected a JSON document, got an empty body.", parameter="body")
    d = depth(raw)
    if d > max_depth:
        raise BadParameter(
            f"body: JSON nested {d} levels deep; at most {max_depth} are accepted.",
            parameter="body",
            allowed={"max_depth": max_depth},
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadParameter(f"body: not valid JSON ({str(exc)[:200]}).", parameter="body") from None
