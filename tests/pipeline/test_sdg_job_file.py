"""The job file's ``indicators: {sdg15_3_1: ...}`` section: parsed into the ``SdgSpec``, bad
values refused by ``socobs indicators`` in one paragraph (exit 2, the store untouched), custom
periods written by a real CLI run on the six-year SDG demo store, and a changed section
recomputing the SDG group (never silently kept)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import xarray as xr
import yaml

from kernels.sdg import Missing
from kernels.sdg_productivity import PRODUCTIVITY_LOOKUPS
from kernels.sdg_tables import SOC_THRESHOLD
from pipeline import cli
from pipeline.config import SDG_LOOKUPS, SDG_MISSING, SDG_SOC_THRESHOLD, load_job
from pipeline.indicators.sdg_periods import SdgSpec, from_job
from pipeline.store import BRANCH, SDG, open_repo
from tests.support.demo import SOURCES
from tests.support.sdg_store import RES, YEARS, SdgStore, sdg_store_copy

# a matrix unlike GPG v2's (its diagonal is 0): everything improves, except staying put degrades
MATRIX = [[-1 if r == c else 1 for c in range(7)] for r in range(7)]


def _job(path: Path, store: str, section: Any = None) -> Path:
    doc: dict[str, Any] = {
        "name": "sdg-test",
        "region": {"bbox": [-180, -60, 180, 84]},
        "sources": SOURCES,
        "grid": {"resolution": RES},
        "period": {"start": YEARS[0], "end": YEARS[1]},
        "store": store,
        "chunks": {"y": 16, "x": 16},
    }
    if section is not None:
        doc["indicators"] = {"sdg15_3_1": section}
    path.write_text(yaml.safe_dump(doc))
    return path


def test_the_section_is_parsed_into_the_sdg_spec(tmp_path: Path) -> None:
    section = {
        "baseline": [2015, 2019],
        "reporting": [[2020, 2022], [2023, 2024]],
        "lookup": "gpg1",
        "missing": "degraded_wins",
        "soc_threshold": 0.15,
        "land_cover_matrix": MATRIX,
    }
    job = load_job(_job(tmp_path / "job.yaml", str(tmp_path / "store"), section))
    assert from_job(job.indicators.sdg15_3_1) == SdgSpec(
        baseline=(2015, 2019),
        reporting=((2020, 2022), (2023, 2024)),
        lookup="gpg1",
        missing="degraded_wins",
        soc_threshold=0.15,
        matrix=tuple(tuple(row) for row in MATRIX),
    )
    bare = load_job(_job(tmp_path / "bare.yaml", str(tmp_path / "store")))
    assert from_job(bare.indicators.sdg15_3_1) == SdgSpec()  # no section: the defaults
    empty = load_job(_job(tmp_path / "none.yaml", str(tmp_path / "store"), {"reporting": []}))
    assert from_job(empty.indicators.sdg15_3_1).reporting == ()  # a baseline only


def test_the_job_files_choices_are_the_kernels() -> None:
    """config.py keeps its own copies (no numba import to read a job file); they must agree."""
    import typing

    assert set(SDG_LOOKUPS) == set(PRODUCTIVITY_LOOKUPS)
    assert set(SDG_MISSING) == set(typing.get_args(Missing))
    assert SDG_SOC_THRESHOLD == SOC_THRESHOLD


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> SdgStore:
    """A copy of the session's shared ingest: the tests run the indicator job on it."""
    return sdg_store_copy(tmp_path_factory, "sdg-job")


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        h.update(str(p.relative_to(path)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def _cli(built: SdgStore, job: Path, tmp_path: Path) -> list[str]:
    return [
        "indicators",
        str(job),
        "--registry",
        str(built.registry),
        "--cache",
        str(built.cache),
        "--var",
        str(tmp_path / "var"),
    ]


BAD = [
    (
        "reporting-before-baseline",
        {"baseline": [2015, 2018], "reporting": [[2017, 2020]]},
        ("reporting", "2017"),
    ),
    ("six-row-matrix", {"land_cover_matrix": MATRIX[:6]}, ("land_cover_matrix", "7 rows", "6 rows")),
    ("unknown-lookup", {"lookup": "gpg3"}, ("lookup", "gpg2", "gpg3")),
    ("baseline-reversed", {"baseline": [2019, 2015]}, ("baseline", "2019")),
    ("baseline-not-an-epoch", {"baseline": [2012, 2017]}, ("indicators.sdg15_3_1", "baseline start", "2012")),
    ("reporting-end-past-the-cube", {"reporting": [[2020, 2023]]}, ("indicators.sdg15_3_1", "2023")),
]


@pytest.mark.parametrize(("case", "section", "needles"), BAD, ids=[c[0] for c in BAD])
def test_bad_values_exit_2_in_one_paragraph_and_change_nothing(
    built: SdgStore,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    section: Any,
    needles: tuple,
) -> None:
    job = _job(tmp_path / "job.yaml", built.store, section)
    before = _digest(Path(built.store))
    code = cli.run(_cli(built, job, tmp_path))
    out, err = capsys.readouterr()
    assert code == 2, f"{case}: exit {code}\n{out}\n{err}"
    text = err.strip()
    assert text.startswith("error: ") and "Traceback" not in text
    assert not re.search(r"\n\s*\n", text), f"more than one paragraph:\n{err}"
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"
    assert _digest(Path(built.store)) == before


def _sdg(store: str) -> xr.Dataset:
    s = open_repo(store).readonly_session(branch=BRANCH)
    return xr.open_zarr(s.store, group=SDG, consolidated=False, chunks=None, mask_and_scale=False).load()


def _kinds(store: str) -> list[str]:
    return [str(s.metadata.get("kind")) for s in open_repo(store).ancestry(branch=BRANCH)]


def test_custom_periods_are_written_and_a_changed_section_recomputes(
    built: SdgStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    custom = {"baseline": [2015, 2018], "reporting": [[2019, 2020]], "land_cover_matrix": MATRIX}
    job = _job(tmp_path / "job.yaml", built.store, custom)
    assert cli.run(_cli(built, job, tmp_path)) == 0, capsys.readouterr().err
    first = _sdg(built.store)
    assert [str(p) for p in first["period"].values] == ["2015-2018", "2019-2020"]
    assert [int(y) for y in first["first_year"].values] == [2015, 2019]
    assert [int(y) for y in first["last_year"].values] == [2018, 2020]
    assert [int(y) for y in first["lc_from"].values] == [2015, 2018]  # reporting: against the baseline's end
    assert first.attrs["baseline"] == "2015-2018"
    n_commits = len(_kinds(built.store))

    # the same section again: nothing to do, no commit
    assert cli.run(_cli(built, job, tmp_path)) == 0, capsys.readouterr().err
    assert len(_kinds(built.store)) == n_commits

    # other periods, default matrix: the indicators are current, the SDG group is recomputed alone
    _job(job, built.store, {"baseline": [2015, 2019], "reporting": [[2020, 2020]]})
    assert cli.run(_cli(built, job, tmp_path)) == 0, capsys.readouterr().err
    kinds = _kinds(built.store)
    assert len(kinds) == n_commits + 1 and kinds[0] == "sdg"
    second = _sdg(built.store)
    assert [str(p) for p in second["period"].values] == ["2015-2019", "2020-2020"]
    assert second.attrs["input_snapshot"] == first.attrs["input_snapshot"]
    # the matrix changed too: land cover of the baseline differs where the classes stayed put
    base_first = first["sdg_land_cover"].sel(period="2015-2018").values
    base_second = second["sdg_land_cover"].sel(period="2015-2019").values
    assert (base_first != base_second).any()

    # the first section again: recomputed again, equal to the first run's land cover
    _job(
        job, built.store, {"baseline": [2015, 2018], "reporting": [[2019, 2020]], "land_cover_matrix": MATRIX}
    )
    assert cli.run(_cli(built, job, tmp_path)) == 0, capsys.readouterr().err
    third = _sdg(built.store)
    assert len(_kinds(built.store)) == n_commits + 2
    assert (third["sdg_land_cover"].values == first["sdg_land_cover"].values).all()

    # `socobs update` / `watch`'s indicator pass reads the section too (and recomputes SDG)
    from pipeline.cli.ingest import indicators_after
    from pipeline.cli.settings import WorkPaths

    _job(job, built.store, {"baseline": [2015, 2017], "reporting": [[2018, 2020]]})
    paths = WorkPaths(tmp_path / "var", built.store, built.registry, built.cache, None)
    indicators_after(load_job(job), paths, None)
    assert [str(p) for p in _sdg(built.store)["period"].values] == ["2015-2017", "2018-2020"]
    assert _kinds(built.store)[0] == "sdg"


def test_the_demo_jobs_commented_section_is_the_demos_defaults(tmp_path: Path) -> None:
    """Uncommented, the example in jobs/demo.yaml parses and equals what the demo gets without it."""
    import numpy as np

    from kernels.sdg_tables import DEFAULT_LC_MATRIX
    from pipeline.indicators.sdg_periods import default_periods
    from pipeline.paths import catalogs_dir

    text = (catalogs_dir() / "jobs" / "demo.yaml").read_text()
    start = text.index("# indicators:")
    lines = [ln.removeprefix("# ") for ln in text[start:].splitlines() if ln.startswith("# ")]
    job = tmp_path / "demo.yaml"
    job.write_text(text[:start] + "\n".join(lines) + "\n")
    spec = from_job(load_job(job).indicators.sdg15_3_1)
    plain = load_job(catalogs_dir() / "jobs" / "demo.yaml")
    epochs = list(range(plain.period.start, plain.period.end + 1))
    baseline, reporting = default_periods(epochs)
    assert (spec.baseline, spec.reporting) == (baseline, reporting)
    assert spec.matrix is not None and np.array_equal(np.asarray(spec.matrix), DEFAULT_LC_MATRIX)
    assert (spec.lookup, spec.missing, spec.soc_threshold) == ("gpg2", "any", SOC_THRESHOLD)
    assert from_job(plain.indicators.sdg15_3_1) == SdgSpec()
