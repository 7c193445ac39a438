"""A real STAC API on 127.0.0.1: ``rustac serve`` over a local catalog.

pystac-client's ``search()`` needs an API with ITEM_SEARCH conformance (a static
catalog.json is refused), so the demo and the tests serve the catalog with rustac's in-memory
backend. Known quirks: asset hrefs must be ``file://`` URIs, and rustac's GET search with
``limit`` plus filters fails while POST (pystac-client's default) works.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from pipeline.errors import CatalogError, ServerError

DEFAULT_HOST = "127.0.0.1"


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def rustac_executable() -> str:
    """The ``rustac`` command installed beside this Python (or on PATH)."""
    local = Path(sys.executable).parent / "rustac"
    if local.exists():
        return str(local)
    found = shutil.which("rustac")
    if found is None:
        raise ServerError(
            "The `rustac` command was not found. Expected it from the PyPI package rustac; "
            "install the project (`make venv`) or `pip install rustac`."
        )
    return found


def collection_files(catalog_dir: Path) -> list[Path]:
    """The collection.json files of a catalog directory (its catalog.json's children)."""
    root = catalog_dir / "catalog.json"
    if not root.exists():
        raise CatalogError(
            f"{catalog_dir}: no catalog.json. Expected a STAC catalog directory such as the "
            "one `socobs demo-catalog DIR` writes."
        )
    doc = json.loads(root.read_text())
    out = [
        (root.parent / link["href"]).resolve() for link in doc.get("links", []) if link.get("rel") == "child"
    ]
    if not out:
        raise CatalogError(f"{root}: the catalog has no child collections to serve.")
    return out


def item_files(collection: Path) -> list[Path]:
    """The item JSON files a collection links to (rustac resolves relative item links against
    its working directory, not the collection, so they are handed over explicitly)."""
    doc = json.loads(collection.read_text())
    return [
        (collection.parent / link["href"]).resolve()
        for link in doc.get("links", [])
        if link.get("rel") == "item"
    ]


@dataclass
class StacServer:
    """A running ``rustac serve`` process."""

    url: str
    process: subprocess.Popen[bytes]
    collections: list[str]
    scratch: Path | None = None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGINT, then SIGKILL after ``timeout`` seconds)."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def start_server(
    catalog_dir: str | Path,
    *,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    timeout: float = 60.0,
) -> StacServer:
    """Start ``rustac serve`` over every collection of ``catalog_dir`` and wait until every
    collection answers (items are loaded before rustac starts listening)."""
    cat = Path(catalog_dir).resolve()
    cols = collection_files(cat)
    ids = [json.loads(p.read_text())["id"] for p in cols]
    if port is None:
        port = free_port(host)
    elif port_in_use(host, port):
        raise ServerError(
            f"port {port} on {host} is already in use. Expected a free port: stop what uses it "
            f"(`ss -ltnp 'sport = :{port}'` shows it) or pass another --port (or 0 for any)."
        )
    url = f"http://{host}:{port}"
    # rustac follows a collection's item links relative to its own working directory, so it
    # gets copies of the collections without those links, and the item files themselves.
    scratch = Path(tempfile.mkdtemp(prefix="socobs-stac-"))
    hrefs: list[Path] = []
    for col in cols:
        doc = json.loads(col.read_text())
        doc["links"] = [
            ln for ln in doc.get("links", []) if ln.get("rel") not in ("item", "self", "root", "parent")
        ]
        copy = scratch / f"{doc['id']}.json"
        copy.write_text(json.dumps(doc))
        hrefs += [copy, *item_files(col)]
    cmd = [rustac_executable(), "serve", "--addr", f"{host}:{port}", *map(str, hrefs)]
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed with the process by the OS
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.PIPE, start_new_session=True)
    server = StacServer(url, proc, ids, scratch)
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
                raise ServerError(
                    f"rustac serve exited with code {proc.returncode} before becoming ready on "
                    f"{url}. Its last output:\n{err}\nCheck that the catalog is valid "
                    "(`rustac validate`) and the port free."
                )
            try:
                r = client.get(f"{url}/collections")
                if r.status_code == 200:
                    served = {c["id"] for c in r.json().get("collections", [])}
                    if set(ids) <= served:
                        return server
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    server.stop()
    raise ServerError(
        f"rustac serve did not become ready on {url} within {timeout:.0f} s. The catalog may "
        "be very large; pass a longer timeout."
    )


@contextlib.contextmanager
def serve_catalog(
    catalog_dir: str | Path, *, host: str = DEFAULT_HOST, port: int | None = None
) -> Iterator[StacServer]:
    """Context manager: a STAC API over ``catalog_dir``, stopped cleanly on exit."""
    server = start_server(catalog_dir, host=host, port=port)
    try:
        yield server
    finally:
        server.stop()
