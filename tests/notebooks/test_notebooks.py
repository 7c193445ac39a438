"""The analyst notebooks, executed as Jupyter would (nbclient, a python3 kernel, the inline
matplotlib backend) against a demo store the tests build and a running API; every figure a
notebook shows is an image/png output. The committed .ipynb are in sync with the jupytext
sources and carry their outputs, figures included (``make notebooks`` refreshes them)."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from pipeline.demo.runner import start_api
from pipeline.ingest.stac_server import free_port
from tests.notebooks.execute import execute, figures, sources

NOTEBOOKS = sources()
pytestmark = pytest.mark.integration


def _shows(source: Path) -> int:
    """The figures a notebook's source shows: one per ``plt.show()``."""
    return len(re.findall(r"^\s*plt\.show\(\)", source.read_text(), flags=re.M))


@pytest.fixture(scope="module")
def api(api_store):
    proc = start_api(api_store.store, api_store.registry, free_port())
    yield proc
    proc.stop()


def test_the_notebooks():
    assert [p.stem for p in NOTEBOOKS] == [
        "01_open_cube",
        "02_country_trend",
        "03_api_reproduce",
        "04_bring_your_own_data",
    ]


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_figure_is_hidden(source):
    """No non-interactive backend, no closed figure: Jupyter shows every one."""
    text = source.read_text()
    assert "Agg" not in text and "plt.close" not in text and "matplotlib.use(" not in text
    assert "# %matplotlib inline" in text
    assert _shows(source) >= 1


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_ipynb_is_in_sync_and_carries_its_outputs(source):
    py = jupytext.read(source)
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    assert [c.source for c in nb.cells] == [c.source for c in py.cells], (
        f"{source.with_suffix('.ipynb').name} is out of date: run `make notebooks`"
    )
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "executed: run `make notebooks`"
    assert not any(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))
    assert figures(nb) == _shows(source), "every figure is in the committed outputs"


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_shows_its_figures(source, api_store, api, tmp_path):
    env = {
        "SOCOBS_STORE": api_store.store,
        "SOCOBS_API_URL": api.url,
        "SOCOBS_COUNTRY": "KEN",
        "SOCOBS_BYO_DIR": str(tmp_path / "byo"),
    }
    nb = execute(source, env)  # a cell that raises fails the test (CellExecutionError)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code)
    assert not any(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))
    assert figures(nb) == _shows(source)
    for cell in code:
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png:
                assert len(png) > 5000, "a figure with something drawn in it"
