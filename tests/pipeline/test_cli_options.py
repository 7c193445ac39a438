"""The command line's choices, working-data paths and job-relative paths."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest

from pipeline.cli import options
from pipeline.cli.settings import work_paths
from pipeline.config import MAX_GRID_CELLS, load_job
from pipeline.errors import InputFileError, PipelineError
from pipeline.paths import catalogs_dir


def test_choice_options_list_what_the_pipeline_accepts():
    """The CLI keeps its choices (for fast --help); they must be the pipeline's own."""
    from kernels.rothc.model import EquilibriumMethod
    from pipeline.cli.zonal import STATS
    from pipeline.indicators.export import FORMATS
    from pipeline.indicators.registry import STRATA
    from pipeline.regions.hierarchy import LEVELS, USER_LEVELS
    from pipeline.regions.zonal import STAT_CHOICES, CoverageMode

    assert [m.value for m in options.Level] == list(LEVELS)
    assert [m.value for m in options.UserLevel] == list(USER_LEVELS)
    assert [m.value for m in options.Stratum] == list(STRATA)
    assert [m.value for m in options.ExportFormat] == list(FORMATS)
    assert [m.value for m in options.CoverageMode] == list(typing.get_args(CoverageMode))
    assert {m.value for m in options.Equilibrium} == set(typing.get_args(EquilibriumMethod))
    assert STATS == STAT_CHOICES


def test_rothc_years_bound_is_the_jobs():
    from pipeline.cli.rothc import MAX_YEARS
    from pipeline.rothc.job import MAX_YEARS as JOB_MAX

    assert MAX_YEARS == JOB_MAX


def _write_job(path: Path, **extra: object) -> Path:
    job = {
        "name": "rel",
        "region": {"bbox": [0, 0, 10, 10]},
        "sources": ["demo-soilgrids"],
        "grid": {"resolution": 1.0},
        "period": {"start": 2015, "end": 2016},
        **extra,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(job))
    return path


def test_paths_in_a_job_are_relative_to_the_job_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    job = load_job(
        _write_job(
            tmp_path / "jobs" / "j.yaml", store="cubes/one", sources=["demo-soilgrids", "mine/src.yaml"]
        ),
        var=tmp_path / "v",
    )
    assert Path(job.store) == tmp_path / "jobs" / "cubes" / "one"
    assert job.sources == ["demo-soilgrids", str(tmp_path / "jobs" / "mine" / "src.yaml")]
    uri = load_job(_write_job(tmp_path / "s3.yaml", store="s3://bucket/cube"))
    assert uri.store == "s3://bucket/cube"
    absolute = load_job(_write_job(tmp_path / "abs.yaml", store=str(tmp_path / "elsewhere")))
    assert absolute.store == str(tmp_path / "elsewhere")


def test_a_job_without_a_store_uses_var(tmp_path):
    job_file = _write_job(tmp_path / "j.yaml")
    assert load_job(job_file, var=tmp_path / "v").store == str(tmp_path / "v" / "store")
    assert load_job(job_file, var=tmp_path / "v", default_store="s3://b/c").store == "s3://b/c"


def test_shipped_jobs_keep_their_store_under_var(tmp_path):
    """A relative store in a job shipped inside the package never lands inside the package."""
    shipped = catalogs_dir() / "jobs" / "demo.yaml"
    job = load_job(shipped, var=tmp_path / "v")
    assert Path(job.store).parent == tmp_path / "v"
    assert not Path(job.store).resolve().is_relative_to(catalogs_dir().resolve())


def test_work_paths_precedence(tmp_path, monkeypatch):
    for name in ("SOCOBS_VAR", "SOCOBS_STORE", "SOCOBS_REGISTRY", "SOCOBS_CACHE", "SOCOBS_MAX_CELLS"):
        monkeypatch.delenv(name, raising=False)
    default = work_paths()
    assert (default.var, default.store, default.registry) == (Path("var"), "var/store", Path("var/regions"))
    monkeypatch.setenv("SOCOBS_VAR", str(tmp_path / "v"))
    monkeypatch.setenv("SOCOBS_REGISTRY", str(tmp_path / "reg"))
    env = work_paths()
    assert env.store == str(tmp_path / "v" / "store") and env.registry == tmp_path / "reg"
    assert env.cache == tmp_path / "v" / "cache"
    explicit = work_paths(tmp_path / "w")  # --var on the command line holds everything
    assert explicit.registry == tmp_path / "w" / "regions" and explicit.store == str(tmp_path / "w" / "store")
    monkeypatch.setenv("SOCOBS_MAX_CELLS", "0")
    with pytest.raises(PipelineError, match="SOCOBS_MAX_CELLS"):
        work_paths()


def test_yaml_guards(tmp_path):
    anchors = tmp_path / "anchor.yaml"
    anchors.write_text("name: &n demo\nregion: {region_id: *n}\n")
    with pytest.raises(InputFileError, match="anchors and aliases"):
        load_job(anchors)
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * 2_000_000)
    with pytest.raises(InputFileError, match="at most"):
        load_job(big)


def test_grid_bound_is_documented_in_the_schema():
    from pipeline.config import GridSpec

    text = json.dumps(GridSpec.model_json_schema())
    assert f"{MAX_GRID_CELLS:.0e}" in text and "SOCOBS_MAX_CELLS" in text


def test_paragraph_clips_quoted_input_and_blank_lines():
    from pipeline.cli._report import paragraph

    quoted = paragraph("expected a name, got '" + "word " * 1000 + "'.\n\nFix it.")
    assert len(quoted) < 400 and "…" in quoted and "\n\n" not in quoted and quoted.endswith("Fix it.")
    assert len(paragraph("z" * 10_000)) <= 200
