"""Microsoft Planetary Computer, offline: recorded-shape items, its SAS token service and its blob
storage, all on 127.0.0.1.

- ``write_catalog``: a catalog with the collections ``gnatsgo-rasters`` and ``esa-worldcover``
  shaped like Planetary Computer's (asset keys, extensions, ``raster:bands``, WorldCover's
  ``classification:classes``, ``datetime: null`` with start/end, the ``tilejson`` and
  ``rendered_preview`` assets) whose hrefs are ``https://<account>.blob.core.windows.net/
  <container>/...`` like the real ones (gNATSGO on ``nrcs``/``gnatsgo``, WorldCover on
  ``ai4edataeuwest``/``esa-worldcover``). gNATSGO's ``soc0_30`` is float32 g C/m2 in CONUS Albers
  (EPSG:5070, 30 m) with the nodata value stactools-gnatsgo records (2147483648.0); WorldCover's
  ``map`` is uint8 class codes in EPSG:4326 at 1/12000 degree, nodata 0.
- ``PcServices``: a child process on one 127.0.0.1 port that is both the SAS token service
  (``GET {sas_url}/{account}/{container}`` answers ``{"msft:expiry": ..., "token":
  "st=...&se=...&sp=rl&...&sig=..."}``; 401 like API Management for the key ``REFUSED_KEY``)
  and an HTTPS proxy for blob storage: ``CONNECT host:443``, then TLS with a self-signed
  certificate made with ``cryptography``, then the fixture COGs with range requests, like Azure:
  a request without the container's current token (``sig``; ``se`` not passed) is refused with
  403 ``AuthenticationFailed``. Every request is a JSON line in a log the tests read. GDAL
  reaches it through ``GDAL_HTTP_PROXY`` with ``GDAL_HTTP_UNSAFESSL=YES``; the package through
  ``PC_SDK_SAS_URL``. (A child process: GDAL calls that hold the GIL would stall servers
  running in the test's own threads.)

The rasters are laid out on the tests' job grid (``BBOX`` at ``RES`` degrees, 10 x 10 cells):
columns 0-3 hold 4500 g C/m2 and cropland, column 4 water and no soil data (with a margin: no
pixel of any overview level touching it has a value), columns 5-9 3000 g C/m2 and grassland
(column 9 tree cover in 2021). Every job cell's expected value is therefore exact by hand.
"""

from __future__ import annotations

import datetime as dt_
import http.server
import json
import secrets
import ssl
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import numpy as np
import pystac
from pyproj import Transformer
from rasterio.transform import from_origin

from pipeline.ingest.stac_server import free_port
from pipeline.processes import spawn_child
from tests.support.cogs import write_cog
from tests.support.real_products import COG, PROJ_EXT, RASTER_EXT

BBOX = (-93.70, 42.10, -93.60, 42.20)  # central Iowa, 10 x 10 cells of 0.01 degree
RES = 0.01
CLASS_EXT = "https://stac-extensions.github.io/classification/v1.0.0/schema.json"
GNATSGO = ("nrcs", "gnatsgo")  # storage account, container
WORLDCOVER = ("ai4edataeuwest", "esa-worldcover")
GNATSGO_NODATA = 2147483648.0  # float32 nodata of gNATSGO's rasters (stactools-gnatsgo's items)
STOCK_WEST, STOCK_EAST = 4500.0, 3000.0  # g C/m2 in columns 0-3 and 5-9; column 4 has none
CROPLAND, WATER, GRASSLAND, TREES = 40, 80, 30, 10
_WC_NAMES = (
    "Tree cover|Shrubland|Grassland|Cropland|Built-up|Bare / sparse vegetation|Snow and ice|"
    "Permanent water bodies|Herbaceous wetland|Mangroves|Moss and lichen"
)
WC_CLASSES = dict(zip((10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100), _WC_NAMES.split("|"), strict=True))


def blob_url(account_container: tuple[str, str], path: str) -> str:
    account, container = account_container
    return f"https://{account}.blob.core.windows.net/{container}/{path}"


def _column(lon: np.ndarray) -> np.ndarray:
    return np.floor((lon - BBOX[0]) / RES + 1e-9).astype(int)


def landcover_codes(year: int, cols: np.ndarray) -> np.ndarray:
    """The class of a job column (0-9) in ``year``."""
    codes = np.where(cols <= 3, CROPLAND, np.where(cols == 4, WATER, GRASSLAND))
    if year == 2021:
        codes = np.where(cols >= 9, TREES, codes)
    return codes.astype(np.uint8)


def expected_stock_g_m2() -> np.ndarray:
    """The stock of each job cell (rows north to south), g C/m2; NaN where gNATSGO has none."""
    row = np.array([STOCK_WEST] * 4 + [np.nan] + [STOCK_EAST] * 5)
    return np.tile(row, (10, 1))


def _write(path: Path, values: np.ndarray, crs: str, transform, nodata: float) -> Path:
    return write_cog(path, values, crs=crs, transform=transform, nodata=nodata, blocksize=512)


def _gnatsgo_raster() -> tuple[np.ndarray, list[float], tuple[float, float, float, float]]:
    """soc0_30 in EPSG:5070 at 30 m over the job's box plus a margin; see the module docstring."""
    to5070 = Transformer.from_crs("EPSG:4326", "EPSG:5070", always_xy=True)
    w, s, e, n = BBOX
    lons, lats = np.meshgrid([w - 0.02, e + 0.02], [s - 0.02, n + 0.02])
    xs, ys = to5070.transform(lons.ravel(), lats.ravel())
    x0, y1 = np.floor(min(xs) / 30) * 30, np.ceil(max(ys) / 30) * 30
    x1, y0 = np.ceil(max(xs) / 30) * 30, np.floor(min(ys) / 30) * 30
    width, height = int((x1 - x0) / 30), int((y1 - y0) / 30)
    cx = x0 + 15 + 30 * np.arange(width)
    cy = y1 - 15 - 30 * np.arange(height)
    gx, gy = np.meshgrid(cx, cy)
    lon, _ = Transformer.from_crs("EPSG:5070", "EPSG:4326", always_xy=True).transform(gx, gy)
    # degrees (about 250 m at 42 N): GDAL's average over the COG's overviews (4 x 30 m pixels)
    # takes any valid pixel that overlaps a cell, so no pixel of any level may touch column 4
    margin = 0.003
    west_edge, east_edge = w + 4 * RES, w + 5 * RES
    values = np.where(lon < west_edge, STOCK_WEST, STOCK_EAST).astype(np.float32)
    values[(lon > west_edge - margin) & (lon < east_edge + margin)] = GNATSGO_NODATA
    transform = [30.0, 0.0, float(x0), 0.0, -30.0, float(y1)]
    return values, transform, (float(x0), float(y0), float(x1), float(y1))


def _preview_assets(collection: str, item_id: str, asset: str) -> dict[str, pystac.Asset]:
    q = f"collection={collection}&item={item_id}&assets={asset}"
    api = "https://planetarycomputer.microsoft.com/api/data/v1/item"
    return {
        "tilejson": pystac.Asset(
            f"{api}/tilejson.json?{q}", "TileJSON", media_type="application/json", roles=["tiles"]
        ),
        "rendered_preview": pystac.Asset(
            f"{api}/preview.png?{q}", "Rendered preview", media_type="image/png", roles=["overview"]
        ),
    }


def _collection(cid: str, bbox: list[float], start: int) -> pystac.Collection:
    return pystac.Collection(
        id=cid,
        description=f"test fixture shaped like Planetary Computer's {cid}",
        license="proprietary",
        extent=pystac.Extent(
            pystac.SpatialExtent([bbox]),
            pystac.TemporalExtent([[dt_.datetime(start, 1, 1, tzinfo=dt_.UTC), None]]),
        ),
    )


def _polygon(w: float, s: float, e: float, n: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def write_catalog(root: Path) -> tuple[Path, dict[tuple[str, str], Path]]:
    """The fixture catalog at ``root`` (served by rustac) and the blobs, by (host, path)."""
    blobs: dict[tuple[str, str], Path] = {}
    cat = pystac.Catalog(id="planetary-computer-fixture", description="Planetary Computer fixture")
    w, s, e, n = BBOX
    outer = [w - 0.02, s - 0.02, e + 0.02, n + 0.02]

    # gNATSGO: one release (2020-07-01), one tile in CONUS Albers
    values, transform, (x0, y0, x1, y1) = _gnatsgo_raster()
    tile = f"conus_{int(x0)}_{int(y1)}_{int(x1)}_{int(y0)}"
    gcol = _collection("gnatsgo-rasters", outer, 2020)
    item = pystac.Item(
        id=tile,
        geometry=_polygon(*outer),
        bbox=outer,
        datetime=dt_.datetime(2020, 7, 1, tzinfo=dt_.UTC),
        properties={
            "proj:code": "EPSG:5070",
            "proj:epsg": 5070,
            "proj:shape": list(values.shape),
            "proj:transform": transform,
            "proj:bbox": [x0, y0, x1, y1],
        },
        stac_extensions=[PROJ_EXT, RASTER_EXT],
        collection="gnatsgo-rasters",
    )
    for key, title in (("soc0_30", "Soil organic carbon stock 0-30 cm"), ("mukey", "Map unit key")):
        path = f"rasters/{key}/{key}_{tile}.tif"
        href = blob_url(GNATSGO, path)
        if key == "soc0_30":
            data = _write(root / "blobs" / path, values, "EPSG:5070", transform, GNATSGO_NODATA)
            blobs[(f"{GNATSGO[0]}.blob.core.windows.net", f"/{GNATSGO[1]}/{path}")] = data
            band = {
                "data_type": "float32",
                "nodata": GNATSGO_NODATA,
                "unit": "g C/m2",
                "spatial_resolution": 30,
            }
        else:  # listed like the real item, never read
            band = {"data_type": "int32", "nodata": 2147483647.0, "spatial_resolution": 30}
        item.add_asset(
            key,
            pystac.Asset(href, title, media_type=COG, roles=["data"], extra_fields={"raster:bands": [band]}),
        )
    for k, a in _preview_assets("gnatsgo-rasters", tile, "soc0_30").items():
        item.add_asset(k, a)
    gcol.add_item(item)
    cat.add_child(gcol)

    # ESA WorldCover: 2020 (v100) and 2021 (v200), proj:epsg on the item, shape/transform on map
    wcol = _collection("esa-worldcover", outer, 2020)
    px = 1.0 / 12000
    width = height = round((outer[2] - outer[0]) / px)
    wt = from_origin(outer[0], outer[3], px, px)
    lon = outer[0] + (np.arange(width) + 0.5) * px
    cols = np.clip(_column(lon), 0, 9)
    for year, version in ((2020, "v100"), (2021, "v200")):
        codes = np.tile(landcover_codes(year, cols), (height, 1))
        tile_id = f"ESA_WorldCover_10m_{year}_{version}_N42W096"
        path = f"{version}/{year}/map/{tile_id}_Map.tif"
        data = _write(root / "blobs" / path, codes, "EPSG:4326", wt, 0)
        blobs[(f"{WORLDCOVER[0]}.blob.core.windows.net", f"/{WORLDCOVER[1]}/{path}")] = data
        item = pystac.Item(
            id=tile_id,
            geometry=_polygon(*outer),
            bbox=outer,
            datetime=None,
            start_datetime=dt_.datetime(year, 1, 1, tzinfo=dt_.UTC),
            end_datetime=dt_.datetime(year, 12, 31, 23, 59, 59, tzinfo=dt_.UTC),
            properties={
                "proj:epsg": 4326,
                "esa_worldcover:product_tile": "N42W096",
                "esa_worldcover:product_version": "1.0.0" if year == 2020 else "2.0.0",
            },
            stac_extensions=[PROJ_EXT, RASTER_EXT, CLASS_EXT],
            collection="esa-worldcover",
        )
        band = {
            "name": "Band1",
            "nodata": 0,
            "sampling": "area",
            "data_type": "uint8",
            "spatial_resolution": 10,
        }
        extra = {
            "raster:bands": [band],
            "classification:classes": [{"value": v, "description": d} for v, d in WC_CLASSES.items()],
            "proj:shape": [height, width],
            "proj:transform": list(wt)[:6],
        }
        item.add_asset(
            "map",
            pystac.Asset(
                blob_url(WORLDCOVER, path),
                "Land Cover Classes",
                media_type=COG,
                roles=["data"],
                extra_fields=extra,
            ),
        )
        for k, a in _preview_assets("esa-worldcover", tile_id, "map").items():
            item.add_asset(k, a)
        wcol.add_item(item)
    cat.add_child(wcol)
    cat.normalize_hrefs(root.as_posix() + "/catalog/")
    cat.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return root / "catalog", blobs


# ---- the token service and the blob store: one child process --------------------------------
#
# They run in a process of their own: GDAL calls that hold the GIL (rasterio's directory
# listing) would otherwise stall servers running in the test's own threads.


class _Tokens:
    """The SAS tokens issued, by (account, container), valid for an hour."""

    def __init__(self) -> None:
        self.expiry = dt_.datetime.now(dt_.UTC).replace(microsecond=0) + dt_.timedelta(hours=1)
        self.issued: dict[tuple[str, str], str] = {}

    def token(self, account: str, container: str) -> str:
        if (account, container) not in self.issued:
            start = (self.expiry - dt_.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
            end = self.expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
            sig = quote(secrets.token_urlsafe(32) + "=", safe="")
            self.issued[(account, container)] = (
                f"st={quote(start)}&se={quote(end)}&sp=rl&sv=2024-05-04&sr=c"
                f"&skoid={secrets.token_hex(4)}&sktid={secrets.token_hex(4)}&skt={quote(start)}"
                f"&ske={quote(end)}&sks=b&skv=2024-05-04&sig={sig}"
            )
        return self.issued[(account, container)]

    def accepts(self, host: str, path: str, query: str) -> bool:
        issued = self.issued.get((host.split(".")[0], path.strip("/").split("/")[0]))
        if issued is None or self.expiry <= dt_.datetime.now(dt_.UTC):
            return False
        return parse_qs(query).get("sig") == parse_qs(issued)["sig"]


def tls_context(directory: Path) -> ssl.SSLContext:
    """A server context with a self-signed certificate for ``*.blob.core.windows.net``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "*.blob.core.windows.net")])
    now = dt_.datetime.now(dt_.UTC)
    hosts = ["*.blob.core.windows.net", *(f"{a}.blob.core.windows.net" for a, _ in (GNATSGO, WORLDCOVER))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt_.timedelta(minutes=5))
        .not_valid_after(now + dt_.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = directory / "blob.crt", directory / "blob.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    return ctx


REFUSED_KEY = "not-a-valid-key"  # PC_SDK_SUBSCRIPTION_KEY the token service refuses (401)
REFUSED_BODY = json.dumps(
    {
        "statusCode": 401,
        "message": "Access denied due to invalid subscription key. Make sure to provide a valid key "
        "for an active subscription.",
    }
).encode()
AZURE_403 = (
    b'<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server '
    b"failed to authenticate the request. Make sure the value of Authorization header is formed "
    b"correctly including the signature.</Message></Error>"
)


def _blob_answer(
    data: bytes | None, authorised: bool, range_: str | None
) -> tuple[int, bytes, dict[str, str]]:
    """Azure Blob Storage's answer to a GET (or HEAD) of a blob."""
    if not authorised:
        return 403, AZURE_403, {"Content-Type": "application/xml", "x-ms-error-code": "AuthenticationFailed"}
    if data is None:
        return 404, b"<Error><Code>BlobNotFound</Code></Error>", {"Content-Type": "application/xml"}
    base = {"Content-Type": "image/tiff", "Accept-Ranges": "bytes"}
    if range_ and range_.startswith("bytes="):
        first, _, last = range_[6:].split(",")[0].partition("-")
        a, b = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
        if a >= len(data):
            return 416, b"", {"Content-Range": f"bytes */{len(data)}"}
        return 206, data[a : b + 1], {**base, "Content-Range": f"bytes {a}-{b}/{len(data)}"}
    return 200, data, base


def _serve(manifest: Path, log: Path, port_file: Path) -> None:
    """The child: ``GET /api/sas/v1/token/{account}/{container}`` (the token service) and
    ``CONNECT host:443`` then TLS (the blob store), on one port written to ``port_file``. Every request
    is one JSON line in ``log``."""
    spec = json.loads(manifest.read_text())
    blobs = {(h, p): Path(f).read_bytes() for h, p, f in spec["blobs"]}
    tls = tls_context(manifest.parent / "tls")
    tokens, lock = _Tokens(), threading.Lock()

    def record(entry: dict) -> None:
        with lock, log.open("a") as fh:
            fh.write(json.dumps(entry) + "\n")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        host = ""

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool = False) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            self.wfile.flush()

        def do_CONNECT(self) -> None:
            self.host = self.path.split(":")[0]
            self.send_response(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            conn = tls.wrap_socket(self.connection, server_side=True)
            self.connection, self.rfile, self.wfile = conn, conn.makefile("rb"), conn.makefile("wb")
            self.close_connection = False

        def _blob(self, head: bool) -> None:
            url = urlsplit(self.path)
            ok = tokens.accepts(self.host, url.path, url.query)
            status, body, headers = _blob_answer(
                blobs.get((self.host, url.path)), ok, self.headers.get("Range")
            )
            record(
                {
                    "kind": "blob",
                    "method": self.command,
                    "host": self.host,
                    "path": url.path,
                    "query": url.query,
                    "status": status,
                }
            )
            self._send(status, body, headers, head)

        def do_GET(self) -> None:
            if self.host:
                self._blob(head=False)
                return
            parts = urlsplit(self.path).path.strip("/").split("/")
            if parts[:4] != ["api", "sas", "v1", "token"] or len(parts) != 6:
                self._send(404, b'{"detail": "Not Found"}', {"Content-Type": "application/json"})
                return
            if self.headers.get("Ocp-Apim-Subscription-Key") == REFUSED_KEY:  # API Management's answer
                record({"kind": "refused", "account": parts[4], "container": parts[5]})
                self._send(401, REFUSED_BODY, {"Content-Type": "application/json"})
                return
            token = tokens.token(parts[4], parts[5])
            expiry = tokens.expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
            record({"kind": "token", "account": parts[4], "container": parts[5], "token": token})
            body = json.dumps({"msft:expiry": expiry, "token": token}).encode()
            self._send(200, body, {"Content-Type": "application/json"})

        def do_HEAD(self) -> None:
            self._blob(head=True)

        def finish(self) -> None:
            super().finish()
            self.connection.close()  # the TLS socket (the server closes only the plain one)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_file.with_suffix(".tmp").write_text(str(server.server_port))
    port_file.with_suffix(".tmp").replace(port_file)
    server.serve_forever()


class PcServices:
    """The token service and the blob store in a child process (see ``_serve``), started with
    the blobs ``write_catalog`` returned; ``sas_url`` for PC_SDK_SAS_URL, ``proxy`` for
    GDAL_HTTP_PROXY."""

    def __init__(self, blobs: dict[tuple[str, str], Path], work: Path) -> None:
        work.mkdir(parents=True, exist_ok=True)
        manifest, self.log, port_file = work / "blobs.json", work / "requests.jsonl", work / "port"
        manifest.write_text(json.dumps({"blobs": [[h, p, str(f)] for (h, p), f in blobs.items()]}))
        self.log.write_text("")
        port_file.unlink(missing_ok=True)
        self.child = spawn_child(  # under a watchdog: it dies with the test process
            [sys.executable, "-m", "tests.support.pc_products", str(manifest), str(self.log), str(port_file)],
            name="planetary computer fixture services",
            cwd=Path(__file__).resolve().parents[2],
        )
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            if not self.child.running() or time.monotonic() > deadline:
                self.child.stop()
                raise RuntimeError(f"the fixture services did not start (exit {self.child.returncode})")
            time.sleep(0.05)
        port = int(port_file.read_text())
        self.sas_url = f"http://127.0.0.1:{port}/api/sas/v1/token"
        self.proxy = f"127.0.0.1:{port}"

    def requests(self, kind: str) -> list[dict]:
        lines = self.log.read_text().splitlines()
        return [e for e in map(json.loads, lines) if e["kind"] == kind]

    def close(self) -> None:
        self.child.stop()


def closed_port_url() -> str:
    """A token service URL nothing listens on (a service that is down)."""
    return f"http://127.0.0.1:{free_port()}/api/sas/v1/token"


if __name__ == "__main__":
    _serve(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
