"""Defaults of the command line: one pydantic-settings object, environment prefix ``SOCOBS_``.

Where working data live, in order of precedence:

1. the command's own option (``--store``, ``--registry``, ``--cache``);
2. for a job's store, the job file's ``store`` (relative to the job file);
3. ``--var DIR`` given on the command line: ``DIR/store``, ``DIR/regions``, ``DIR/cache``;
4. ``SOCOBS_STORE``, ``SOCOBS_REGISTRY``, ``SOCOBS_CACHE`` (as for the API);
5. under ``$SOCOBS_VAR``, else ``./var``: the one documented default.

Read when a command runs (never at import), so the environment given to a process applies to it.
A bad value (``SOCOBS_MAX_CELLS=lots``) is reported as one paragraph naming the variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.errors import PipelineError, quote

DEFAULT_VAR = Path("var")


class CliSettings(BaseSettings):
    """What the ``SOCOBS_*`` environment says about the command line's working data."""

    model_config = SettingsConfigDict(env_prefix="SOCOBS_", extra="ignore")

    var: Path = Field(DEFAULT_VAR, description="Working data folder (store, caches, region registry)")
    store: str | None = Field(None, description="Cube store; default VAR/store")
    registry: Path | None = Field(None, description="Registered region sets; default VAR/regions")
    cache: Path | None = Field(None, description="Coverage caches; default VAR/cache")
    max_cells: int | None = Field(
        None, ge=1, description="Largest job grid in cells (default pipeline.config.MAX_GRID_CELLS)"
    )


def cli_settings() -> CliSettings:
    """The settings of this process (environment read now); a bad variable is a PipelineError."""
    try:
        return CliSettings()
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "SOCOBS_" + str(err["loc"][0]).upper() if err["loc"] else "a SOCOBS_* variable"
        raise PipelineError(
            f"environment variable {name}: {err['msg']} (got {quote(err.get('input'))}). "
            f"Fix it or unset it (`unset {name}`)."
        ) from None


@dataclass(frozen=True)
class WorkPaths:
    """Where this command keeps its working data."""

    var: Path
    store: str
    registry: Path
    cache: Path
    max_cells: int | None


def work_paths(var: Path | None = None) -> WorkPaths:
    """The working data paths for a command given ``--var`` (None: not given)."""
    s = cli_settings()
    if var is not None:  # an explicit --var holds everything
        return WorkPaths(var, str(var / "store"), var / "regions", var / "cache", s.max_cells)
    return WorkPaths(
        s.var,
        s.store or str(s.var / "store"),
        s.registry or s.var / "regions",
        s.cache or s.var / "cache",
        s.max_cells,
    )
