"""Where the registry lives and how it is opened: the URL, the engine, the schema's upgrade.

The URL is ``$SOCOBS_DATABASE_URL`` when set (e.g. ``postgresql+psycopg://user@host/db``), else
an SQLite file ``VAR/registry.sqlite`` (embedded, nothing to install). ``upgrade(url)`` brings the
schema to the newest Alembic revision; the migrations ship inside the package
(``pipeline/registry/migrations``, found with importlib.resources), so an installed wheel
migrates without an alembic.ini. The API runs it on start-up; ``socobs db upgrade`` by hand.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.errors import PipelineError, clip

ENV_URL = "SOCOBS_DATABASE_URL"
HEAD = "0001"


class RegistryError(PipelineError):
    """Bad input for the registry, or a registry that cannot be opened. ``field`` names the
    input at fault (the API's ``parameter``), ``status`` the HTTP status the API answers."""

    status = 422

    def __init__(self, message: str, *, field: str | None = None, allowed: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.allowed = allowed


class NotFoundError(RegistryError):
    status = 404


class ConflictError(RegistryError):
    """A write against a version that is not the current one (optimistic locking)."""

    status = 409

    def __init__(self, message: str, *, current_version: int, current: dict[str, Any] | None = None) -> None:
        super().__init__(message, field="version")
        self.current_version = current_version
        self.current = current


def database_url(var: Path | str | None = None, url: str | None = None) -> str:
    """``url``, else ``$SOCOBS_DATABASE_URL``, else SQLite at ``VAR/registry.sqlite``."""
    chosen = url or os.environ.get(ENV_URL) or ""
    if chosen:
        return chosen
    base = Path(var) if var is not None else Path(os.environ.get("SOCOBS_VAR") or "var")
    return f"sqlite:///{(base / 'registry.sqlite').resolve()}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


_lock = threading.Lock()
_active: list[str] = []  # the registry this process serves (set by the API at start-up)


def use(url: str) -> None:
    """Make ``url`` the registry this process serves (what the KPIs count, ``kpi_url``)."""
    _active[:] = [url]


def unuse(url: str) -> None:
    """``url`` is no longer served (the API stops)."""
    if _active == [url]:
        _active.clear()


def kpi_url() -> str | None:
    """The registry the KPIs of this process count: the one the API serves, else
    ``$SOCOBS_DATABASE_URL``; None: no registry (the registry's KPIs then have no value)."""
    return _active[0] if _active else os.environ.get(ENV_URL) or None


@functools.cache
def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RegistryError(
                    f"the registry's SQLite file {clip(path)} cannot be created ({clip(exc, 150)}). "
                    "Choose a writable --var, or set SOCOBS_DATABASE_URL."
                ) from None
        eng = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(eng, "connect", _sqlite_pragmas)
        return eng
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        return create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise RegistryError(
            f"SOCOBS_DATABASE_URL: expected an SQLAlchemy URL such as "
            f"postgresql+psycopg://user:password@host:5432/db or sqlite:////path/registry.sqlite; "
            f"got one that cannot be used ({clip(exc, 150)}). Fix the URL."
        ) from None


def engine(url: str) -> Engine:
    with _lock:
        return _engine(url)


def migrations_dir() -> Path:
    """The shipped Alembic scripts (inside the installed package)."""
    return Path(str(resources.files("pipeline.registry") / "migrations"))


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str) -> str:
    """Bring the schema at ``url`` to the newest revision; returns it. Idempotent."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    for attempt in range(3):  # two processes migrating at once: the loser finds the schema made
        try:
            with _lock, _engine(url).begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
            return HEAD
        except SQLAlchemyError as exc:
            if attempt < 2 and current_revision_or_none(url) is not None:
                continue
            error = exc
    raise RegistryError(
        f"the registry database {redact(url)} could not be migrated ({clip(error, 200)}). Check that "
        "it is reachable and writable (SOCOBS_DATABASE_URL), then run `socobs db upgrade`."
    ) from None


def current_revision_or_none(url: str) -> str | None:
    try:
        return current_revision(url)
    except SQLAlchemyError:
        return None


def tables(url: str) -> list[str]:
    return sorted(inspect(engine(url)).get_table_names())


def redact(url: str) -> str:
    """The URL without its password (for messages)."""
    head, sep, tail = url.partition("://")
    if "@" in tail and ":" in tail.split("@", 1)[0]:
        user = tail.split("@", 1)[0].split(":", 1)[0]
        tail = f"{user}:***@{tail.split('@', 1)[1]}"
    return head + sep + tail


@contextmanager
def session(url: str) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    maker = sessionmaker(engine(url), expire_on_commit=False)
    with maker() as s, s.begin():
        yield s
