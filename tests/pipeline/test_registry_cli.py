"""``socobs db|keys|registry|kpi record`` as real subprocesses (SQLite under --var; PostgreSQL via
SOCOBS_DATABASE_URL), and the migrations run from a built wheel (no alembic.ini, no checkout)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline.registry import keys, service
from tests.support.install import build_wheel
from tests.support.postgres import PostgresServer, pg_server  # noqa: F401  (fixture)

SOCOBS = [sys.executable, "-m", "pipeline.cli"]


def socobs(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SOCOBS, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def one_paragraph(stderr: str) -> str:
    assert "Traceback" not in stderr
    assert stderr.startswith("error: ")
    return " ".join(stderr.split())


def test_keys_and_kpi_record_from_the_command_line(tmp_path: Path) -> None:
    var = tmp_path / "var"
    up = socobs("db", "upgrade", "--var", str(var), cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    assert "at revision 0001" in up.stdout and (var / "registry.sqlite").exists()

    made = socobs("keys", "create", "--role", "editor", "--note", "test", "--var", str(var), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("socobs_") and "not shown again" in made.stderr
    url = f"sqlite:///{(var / 'registry.sqlite').resolve()}"
    info = keys.verify_key(url, key)
    assert info is not None and info.role == "editor"
    assert key.rsplit("_", 1)[-1].encode() not in (var / "registry.sqlite").read_bytes()

    listed = socobs("keys", "list", "--var", str(var), cwd=tmp_path)
    assert listed.returncode == 0 and info.prefix in listed.stdout and key not in listed.stdout

    bad_role = socobs("keys", "create", "--role", "owner", "--var", str(var), cwd=tmp_path)
    assert bad_role.returncode == 2 and "viewer, editor, admin" in one_paragraph(bad_role.stderr)

    revoked = socobs("keys", "revoke", str(info.id), "--var", str(var), cwd=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert keys.verify_key(url, key) is None
    missing = socobs("keys", "revoke", "99", "--var", str(var), cwd=tmp_path)
    assert missing.returncode == 2 and "99" in one_paragraph(missing.stderr)

    rec = socobs(
        "kpi",
        "record",
        "a2_projects_supported",
        "--value",
        "14",
        "--date",
        "2025",
        "--source",
        "Forum 2025",
        "--var",
        str(var),
        cwd=tmp_path,
    )
    assert rec.returncode == 0, rec.stderr
    (obs,) = service.list_observations(url, "a2_projects_supported")
    assert (obs["value"], obs["date"], obs["source"]) == (14.0, "2025", "Forum 2025")
    assert obs["recorded_by"].startswith("cli")
    computed = socobs(
        "kpi",
        "record",
        "e1_mrv_operators",
        "--value",
        "1",
        "--date",
        "2025",
        "--source",
        "x",
        "--var",
        str(var),
        cwd=tmp_path,
    )
    assert computed.returncode == 2 and "computed" in one_paragraph(computed.stderr)


def test_registry_import_all_or_nothing_from_the_command_line(tmp_path: Path) -> None:
    var = tmp_path / "var"
    orgs = tmp_path / "orgs.csv"
    orgs.write_text("name,membership,type,country\nINRAE,member,research,FRA\n")
    done = socobs("registry", "import", str(orgs), "--var", str(var), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "imported 1 organisations" in done.stdout
    projects = tmp_path / "projects.csv"
    projects.write_text(
        "name,organisation,country,start_date,end_date,practices,lon,lat,area_ha\n"
        "A,INRAE,FRA,2024-01-01,2030-01-01,no_tillage,2.3,47.2,100\n"
        "B,INRAE,FRA,2030-01-01,2024-01-01,no_tillage,2.3,47.2,100\n"
    )
    bad = socobs("registry", "import", str(projects), "--var", str(var), cwd=tmp_path)
    msg = one_paragraph(bad.stderr)
    assert bad.returncode == 2 and "line 3" in msg and "end_date" in msg and "Nothing was imported" in msg
    url = f"sqlite:///{(var / 'registry.sqlite').resolve()}"
    assert service.list_projects(url)["features"] == []
    missing = socobs("registry", "import", str(tmp_path / "nope.csv"), "--var", str(var), cwd=tmp_path)
    assert missing.returncode == 2 and "nope.csv" in one_paragraph(missing.stderr)


def test_database_url_from_the_environment(tmp_path: Path, pg_server: PostgresServer) -> None:  # noqa: F811
    url = pg_server.create_database("registry_cli_env")
    made = socobs("keys", "create", "--role", "admin", cwd=tmp_path, env={"SOCOBS_DATABASE_URL": url})
    assert made.returncode == 0, made.stderr
    assert not (tmp_path / "var").exists()  # nothing written under the default var
    info = keys.verify_key(url, made.stdout.strip())
    assert info is not None and info.role == "admin"
    bad = socobs(
        "db", "upgrade", cwd=tmp_path, env={"SOCOBS_DATABASE_URL": url.replace(str(pg_server.port), "1")}
    )
    assert bad.returncode == 2 and "could not be migrated" in one_paragraph(bad.stderr)
    assert ":***@" not in bad.stderr or "postgres" in bad.stderr


@pytest.mark.slow
def test_migrations_run_from_a_built_wheel(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert "pipeline/registry/migrations/env.py" in names
    assert "pipeline/registry/migrations/versions/0001_initial.py" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import pipeline, sys; from pipeline.registry import db;"
        f"assert pipeline.__file__.startswith({str(site)!r}), pipeline.__file__;"
        f"url = db.database_url({str(tmp_path / 'v')!r}); print(db.upgrade(url), db.tables(url))"
    )
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(site)},
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("0001") and "project_assessments" in run.stdout
