"""A throwaway PostgreSQL server for the registry's tests, from Debian's binaries.

``postgres_server()`` runs ``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/*/bin`` (the
``postgresql`` package) in a new directory under the system's temporary directory (removed after), listening on 127.0.0.1 on a free port (its
socket in the same directory, trust authentication), and stops it afterwards. PostgreSQL refuses
to run as root: as root it runs as the ``postgres`` user the package creates. Without the
binaries (or that user) it says why, for the tests to skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

APT_PACKAGES = ("postgresql",)  # Debian: initdb, pg_ctl, postgres under /usr/lib/postgresql/<v>/bin


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def binaries() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and pg_ctl."""
    found = sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for b in reversed(found):
        if (b / "initdb").exists() and (b / "pg_ctl").exists():
            return b
    return None


def unavailable() -> str | None:
    """Why no server can be started here (None: it can)."""
    if binaries() is None:
        return (
            "PostgreSQL's server binaries are not installed (no /usr/lib/postgresql/*/bin/initdb); "
            f"install the Debian package(s) {', '.join(APT_PACKAGES)} to run the registry's tests on PostgreSQL"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root and `runuser` is missing to run the server as `postgres`"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A running server (see the module docstring); stopped and removed on exit."""
    why = unavailable()
    if why is not None:
        raise RuntimeError(why)
    bin_dir = binaries()
    assert bin_dir is not None
    # not under pytest's tmp_path: that is private to this user, and the server may run as `postgres`
    tmp = Path(tempfile.mkdtemp(prefix="socobs-pg-"))
    data = tmp / "pgdata"
    prefix: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
        tmp.chmod(0o700)
        prefix = ["runuser", "-u", "postgres", "--"]
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    r = subprocess.run(
        [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if r.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {r.stderr[-1000:]}")
    port = 0
    for _ in range(5):  # a port taken between choosing and binding: choose again
        port = _free_port()
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c fsync=off"
        r = subprocess.run(
            [
                *prefix,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(tmp / "log"),
                "-o",
                opts,
                "-w",
                "-t",
                "120",
                "start",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
        )
        if r.returncode == 0:
            break
    else:
        log = (tmp / "log").read_text(errors="replace")[-2000:] if (tmp / "log").exists() else ""
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {r.stderr[-500:]} {log}")
    try:
        yield PostgresServer("127.0.0.1", port, "postgres")
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            env=env,
            timeout=120,
        )
        shutil.rmtree(tmp, ignore_errors=True)


# --- fixtures (imported by the registry's test modules) ----------------------------------------

import itertools  # noqa: E402

import pytest  # noqa: E402

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server per test session (skips, saying why, when none can run)."""
    why = unavailable()
    if why is not None:
        pytest.skip(why)
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty registry database, migrated: an SQLite file, then a new PostgreSQL database."""
    from pipeline.registry.db import database_url, upgrade

    if request.param == "sqlite":
        url = database_url(tmp_path)
    else:
        server: PostgresServer = request.getfixturevalue("pg_server")
        url = server.create_database(f"registry_{os.getpid()}_{next(_names)}")
    upgrade(url)
    return url
