"""``socobs demo --job FILE`` follows the job file's ``indicators.sdg15_3_1`` section, as
``socobs indicators`` does (the demo's own indicator runs once used the defaults whatever the
file said)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pipeline import cli
from pipeline.ingest.stac_server import free_port
from pipeline.store import BRANCH, INDICATORS, SDG, open_group, open_repo
from tests.support.demo import SMALL_DEMO, SOURCES

pytestmark = pytest.mark.integration


def _job(path: Path, sdg: dict | None) -> Path:
    body: dict = {
        "name": "demo-sdg",
        "region": {"bbox": [-180, -60, 180, 84]},
        "sources": SOURCES,
        "grid": {"crs": "EPSG:4326", "resolution": SMALL_DEMO.resolution},
        "period": {"start": SMALL_DEMO.start_year, "end": SMALL_DEMO.end_year},
        "store": "var/store",
    }
    if sdg is not None:
        body["indicators"] = {"sdg15_3_1": sdg}
    path.write_text(yaml.safe_dump(body))
    return path


def test_the_demo_skips_sdg_when_its_job_file_says_so(tmp_path: Path, demo_catalog: Path) -> None:
    var = tmp_path / "var"
    shutil.copytree(demo_catalog, var / "demo-catalog")
    job = _job(tmp_path / "job.yaml", {"skip": True})
    argv = ["demo", "--var", str(var), "--job", str(job), "--port", str(free_port()), "--api-port", "0"]
    assert cli.run([*argv, "--no-serve"]) == 0
    tip = open_repo(str(var / "store")).readonly_session(branch=BRANCH)
    assert open_group(tip, INDICATORS, required=False) is not None  # the indicators ran
    assert open_group(tip, SDG, required=False) is None  # and SDG 15.3.1 was skipped, as asked
