"""Where the project's shipped data live (``catalogs/``, inside the installed package)."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def catalogs_dir() -> Path:
    """The ``catalogs/`` data: ``$SOCOBS_CATALOGS`` when set (a deployment's own copy), else the
    copy inside the installed package (``pipeline/catalogs``, a link to the repository's
    top-level ``catalogs/`` in a checkout, real files in a wheel)."""
    env = os.environ.get("SOCOBS_CATALOGS")
    if env:
        return Path(env)
    return Path(str(resources.files("pipeline") / "catalogs"))
