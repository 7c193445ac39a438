"""The analyst notebooks, executed against a demo store and a running API,
and their .ipynb kept in sync with the jupytext sources."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from pipeline.demo.runner import start_api
from pipeline.ingest.stac_server import free_port

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.py"))
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api(api_store):
    proc = start_api(api_store.store, api_store.registry, free_port())
    yield proc
    proc.stop()


def test_there_are_three_notebooks():
    assert [p.stem for p in NOTEBOOKS] == ["01_open_cube", "02_country_trend", "03_api_reproduce"]


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_ipynb_is_generated_from_the_source(source):
    py = jupytext.read(source)
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    assert [c.source for c in nb.cells] == [c.source for c in py.cells], (
        f"{source.with_suffix('.ipynb').name} is out of date: run `make notebooks`"
    )


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(source, api_store, api, monkeypatch):
    monkeypatch.setenv("SOCOBS_STORE", api_store.store)
    monkeypatch.setenv("SOCOBS_API_URL", api.url)
    monkeypatch.setenv("SOCOBS_COUNTRY", "KEN")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = jupytext.read(source)
    # a cell that raises fails the test (nbclient raises CellExecutionError); timeout is per cell
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(source.parent)}}
    ).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code)
    assert not any(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))
