"""A real STAC API on 127.0.0.1: ``rustac serve`` over a local catalog.

pystac-client's ``search()`` needs an API with ITEM_SEARCH conformance (a static
catalog.json is refused), so the demo and the tests serve the catalog with rustac's in-memory
backend. Known quirks: asset hrefs must be ``file://`` URIs, and rustac's GET search with
``limit`` plus filters fails while POST (pystac-client's default) works.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from pipeline.errors import CatalogError, ServerError
from pipeline.processes import Child, exit_status, spawn_child, stop_on_signals

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
    """A running ``rustac serve`` (under the watchdog of :mod:`pipeline.processes`)."""

    url: str
    child: Child
    collections: list[str]
    scratch: Path | None = None

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The process to poll: it exits with rustac's status."""
        return self.child.process

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, timeout: float | None = None) -> None:
        """Stop the server (SIGTERM, SIGKILL after the grace period) and remove its scratch."""
        self.child.stop(timeout)


def _check_port(host: str, port: int | None) -> int:
    if not port:  # None or 0: any free port
        return free_port(host)
    if not 0 < port < 65536:
        raise ServerError(
            f"port {port}: expected a TCP port between 1 and 65535 (or 0 for any free port); "
            "pass another --port."
        )
    if port_in_use(host, port):
        raise ServerError(
            f"port {port} on {host} is already in use. Expected a free port: stop what uses it "
            f"(`ss -ltnp 'sport = :{port}'` shows it) or pass another --port (or 0 for any)."
        )
    return port


def start_server(
    catalog_dir: str | Path,
    *,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    timeout: float = 60.0,
) -> StacServer:
    """Start ``rustac serve`` over every collection of ``catalog_dir`` and wait until every
    collection answers (items are loaded before rustac starts listening). The server and its
    scratch folder go away with :meth:`StacServer.stop`, or when this process ends however it
    ends (see :mod:`pipeline.processes`)."""
    cat = Path(catalog_dir).resolve()
    cols = collection_files(cat)
    ids = [json.loads(p.read_text())["id"] for p in cols]
    port = _check_port(host, port)
    url = f"http://{host}:{port}"
    # rustac follows a collection's item links relative to its own working directory, so it
    # gets copies of the collections without those links, and the item files themselves.
    scratch = Path(tempfile.mkdtemp(prefix="socobs-stac-"))
    server: StacServer | None = None
    try:
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
        # rustac's messages go to an unnamed file (nothing left on disk), read if it fails.
        with tempfile.TemporaryFile() as log:
            child = spawn_child(
                cmd, name="rustac serve", stdout=subprocess.DEVNULL, stderr=log, cleanup=[scratch]
            )
            server = StacServer(url, child, ids, scratch)
            _wait_ready(server, log, timeout)
        return server
    except BaseException:
        if server is not None:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def _wait_ready(server: StacServer, log: IO[bytes], timeout: float) -> None:
    url, ids = server.url, server.collections
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if not server.child.running():
                log.seek(0)
                err = log.read()[-2000:].decode(errors="replace")
                raise ServerError(
                    f"rustac serve exited with code {server.child.returncode} before becoming ready "
                    f"on {url}. Its last output:\n{err}\nCheck that the catalog is valid "
                    "(`rustac validate`) and the port free."
                )
            try:
                r = client.get(f"{url}/collections")
                if r.status_code == 200:
                    served = {c["id"] for c in r.json().get("collections", [])}
                    if set(ids) <= served:
                        return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
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


def serve_until_signalled(
    catalog_dir: str | Path,
    *,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """``socobs stac serve``: serve ``catalog_dir`` until SIGTERM, SIGHUP or SIGINT, then stop
    the server and remove its scratch folder. Returns the exit status: 0 when stopped while
    serving, 128+N when signal N came before the server was ready. Raises :class:`ServerError`
    if rustac stops by itself."""
    served = False
    with stop_on_signals():
        try:
            server = start_server(catalog_dir, host=host, port=port)
            say(f"serving STAC API at {server.url} (collections: {', '.join(server.collections)})")
            if server.collections:
                first = json.dumps({"collections": [server.collections[0]], "limit": 2})
                say(
                    f"  try: curl -s -X POST {server.url}/search -H 'content-type: application/json' "
                    f"-d '{first}'"
                )
            say("  Ctrl-C stops it.")
            served = True
            while server.child.running():
                time.sleep(0.5)
        except KeyboardInterrupt as exc:  # processes.Interrupted included
            return 0 if served else exit_status(exc)
    raise ServerError(
        f"rustac serve stopped by itself (exit {server.child.returncode}) while serving "
        f"{server.url}. Expected it to run until stopped; check memory and the catalog, then "
        "start it again."
    )
