"""Execute the analyst notebooks with nbclient, as Jupyter would, and (``make notebooks``) write
their ``.ipynb`` with the outputs: figures inline (``image/png``), tables, prints.

``python -m tests.notebooks.execute [--store URI --registry DIR] [NAME ...]``: without a store,
the tests' small demo store is built once under ``var/notebooks`` (real pipeline, synthetic
data) and reused; an API process serves it on a free port for the notebooks that ask the API.
Offline: nothing is fetched.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT = 600  # seconds per cell: notebook 04 ingests and computes indicators in one cell each


def sources() -> list[Path]:
    """The jupytext sources, in order."""
    return sorted(NOTEBOOKS.glob("[0-9]*.py"))


@contextmanager
def _environ(env: Mapping[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(source: Path, env: Mapping[str, str]) -> nbformat.NotebookNode:
    """Run every cell of ``source`` in a fresh python3 kernel (working directory: notebooks/,
    ``env`` added to its environment); a cell that raises raises CellExecutionError."""
    nb = jupytext.read(source)
    with _environ({**env, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}):
        NotebookClient(
            nb,
            timeout=CELL_TIMEOUT,
            kernel_name="python3",
            resources={"metadata": {"path": str(source.parent)}},
        ).execute()
    return nb


def figures(nb: nbformat.NotebookNode) -> int:
    """How many ``image/png`` outputs the notebook's code cells hold."""
    return sum(
        "image/png" in out.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebook names (default: all)")
    parser.add_argument("--store", help="an indicator store (default: the small demo store)")
    parser.add_argument("--registry", help="its region registry folder (with --store)")
    parser.add_argument("--country", default="KEN")
    args = parser.parse_args(argv)
    from pipeline.demo.runner import start_api
    from pipeline.ingest.stac_server import free_port

    if args.store:
        store, registry = args.store, Path(args.registry or ROOT / "var" / "regions")
    else:
        from tests.support.api_store import build_api_store

        built = build_api_store(ROOT / "var" / "notebooks")
        store, registry = built.store, built.registry
    chosen = [s for s in sources() if not args.names or s.stem in args.names]
    api = start_api(store, registry, free_port())
    try:
        with tempfile.TemporaryDirectory(prefix="socobs-notebooks-") as work:
            for source in chosen:
                env = {
                    "SOCOBS_STORE": store,
                    "SOCOBS_API_URL": api.url,
                    "SOCOBS_COUNTRY": args.country,
                    "SOCOBS_BYO_DIR": str(Path(work) / source.stem),
                }
                nb = execute(source, env)
                out = source.with_suffix(".ipynb")
                nbformat.write(nb, out)
                print(f"{out.relative_to(ROOT)}: {figures(nb)} figures")
    finally:
        api.stop()


if __name__ == "__main__":
    main()
