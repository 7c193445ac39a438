"""Small helpers every service uses."""

from __future__ import annotations

import math
from typing import Any


def num(v: Any) -> float | None:
    """A JSON number, or None (null) for NaN / no data."""
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None
