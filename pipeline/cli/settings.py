"""Defaults of the command line: one pydantic-settings object, environment prefix ``SOCOBS_``.

Read when a command runs (never at import), so ``SOCOBS_STORE``, ``SOCOBS_REGISTRY`` ... given
to a process apply to it, as they do to the API (``observatory_api.settings``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class CliSettings(BaseSettings):
    """Where the command line keeps its working data, unless an option says otherwise."""

    model_config = SettingsConfigDict(env_prefix="SOCOBS_", extra="ignore")

    store: str = "var/store"
    registry: Path = Path("var/regions")
    cache: Path = Path("var/cache")


def cli_settings() -> CliSettings:
    """The settings of this process (environment read now)."""
    return CliSettings()
