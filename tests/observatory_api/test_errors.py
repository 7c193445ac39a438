"""One error format everywhere (RFC 9457 problem+json), HEAD wherever GET, body and JSON limits,
per-client limits, public URLs never taken from the Host header, no server path in answers."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from fastapi.testclient import TestClient

from observatory_api import Settings, create_app
from observatory_api.jsonbody import depth
from observatory_api.limits import ClientLimiter, Gate, client_address
from observatory_api.reader import load_snapshot

PROBLEM = "application/problem+json"


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["type"].startswith("tag:soc-observatory")
    assert body["request_id"] == r.headers["x-request-id"]
    return body


def _settings(api_store, **kw) -> Settings:
    return Settings(store=api_store.store, registry=api_store.registry, poll_seconds=3600, **kw)


def test_unknown_routes_and_wrong_methods_are_problems(client):
    _problem(client.get("/v1/nope"), 404)
    _problem(client.get("/v1/regions/NOPE"), 404)
    r = client.delete("/v1/regions")
    body = _problem(r, 405)
    assert "GET" in r.headers["allow"] and "DELETE" in body["detail"]
    _problem(client.get("/v1/aoi/assess"), 405)
    bad = _problem(client.get("/v1/point", params={"lat": "north", "lon": 0}), 422)
    assert bad["parameter"] == "lat"


def test_a_client_request_id_is_kept_and_a_bad_one_replaced(client):
    r = client.get("/v1/nope", headers={"X-Request-Id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123" and r.json()["request_id"] == "abc-123"
    r = client.get("/v1/nope", headers={"X-Request-Id": "no spaces\tor tabs"})
    assert r.headers["x-request-id"] != "no spaces\tor tabs" and len(r.headers["x-request-id"]) == 16


def test_head_works_wherever_get_does(client):
    h = client.head("/healthz")
    assert h.status_code == 200 and h.content == b""
    g = client.get("/v1/tiles/soc_stock/2/2/1.png")
    h = client.head("/v1/tiles/soc_stock/2/2/1.png")
    assert h.status_code == 200 and h.content == b""
    assert h.headers["content-type"] == "image/png" and h.headers["etag"] == g.headers["etag"]
    assert int(h.headers["content-length"]) == len(g.content)
    assert client.head("/v1/regions/FRA/summary").headers["x-snapshot-id"] == g.headers["x-snapshot-id"]
    assert client.head("/v1/nope").status_code == 404


def test_body_limits_on_bytes_received_chunked_or_not(client):
    big = b'{"geometry": ' + b" " * 2_000_000 + b"}"
    body = _problem(
        client.post("/v1/aoi/assess", content=big, headers={"content-type": "application/json"}), 413
    )
    assert body["parameter"] == "body" and body["allowed"] == {"max_bytes": 1_000_000}

    def chunks():  # no Content-Length: Transfer-Encoding: chunked
        for _ in range(40):
            yield b" " * 100_000

    body = _problem(client.post("/v1/aoi/assess", content=chunks()), 413)
    assert "stopped reading" in body["detail"]


def test_json_nesting_and_syntax(client):
    deep = b"[" * 40 + b"]" * 40
    body = _problem(client.post("/v1/aoi/assess", content=deep), 422)
    assert body["parameter"] == "body" and body["allowed"] == {"max_depth": 32}
    assert _problem(client.post("/v1/aoi/assess", content=b"{not json"), 422)["parameter"] == "body"
    assert _problem(client.post("/v1/aoi/assess", content=b""), 422)["parameter"] == "body"
    missing = _problem(client.post("/v1/aoi/assess", json={"ring_km": 5}), 422)
    assert missing["parameter"] == "geometry"


def test_json_depth_ignores_brackets_in_strings():
    assert depth(b'{"a": "[[[[[[", "b": [[1]]}') == 3
    assert depth(rb'{"a": "\"[[[[", "b": 1}') == 1  # an escaped quote does not end the string
    assert depth(rb'{"a": "x\\", "b": [[[1]]]}') == 4  # an escaped backslash does
    assert depth(b"[" * 50 + b"]" * 50) == 50
    assert depth(b"") == 0


def test_a_500_names_the_request_id_and_nothing_of_the_server(api_store):
    app = create_app(_settings(api_store))

    def boom() -> None:
        raise RuntimeError(f"secret failure in {api_store.store}")

    app.add_api_route("/boom", boom)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("observatory_api").addHandler(handler)
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            r = c.get("/boom")
    finally:
        logging.getLogger("observatory_api").removeHandler(handler)
    body = _problem(r, 500)
    assert body["request_id"] in body["detail"]
    assert api_store.store not in r.text and "Traceback" not in r.text and "secret" not in r.text
    logged = [x for x in records if x.levelno >= logging.ERROR]
    assert logged and logged[0].fields["request_id"] == body["request_id"]  # type: ignore[attr-defined]
    assert logged[0].exc_info is not None  # the traceback goes to the log


def test_expensive_requests_are_limited_per_client(api_store):
    app = create_app(_settings(api_store, client_requests_per_minute=2))
    box = {"type": "Polygon", "coordinates": [[[0, 46], [4, 46], [4, 48], [0, 48], [0, 46]]]}
    with TestClient(app) as c:
        assert [c.post("/v1/aoi/assess", json={"geometry": box}).status_code for _ in range(2)] == [200, 200]
        r = c.post("/v1/aoi/assess", json={"geometry": box})
        _problem(r, 429)
        assert 1 <= int(r.headers["retry-after"]) <= 30
        # other clients (behind no proxy: their own address) and other endpoints are not affected
        assert c.get("/v1/regions/FRA/summary").status_code == 200
        g = [c.get("/v1/regions/KEN", params={"geometry": "true"}).status_code for _ in range(3)]
        assert g == [200, 200, 429]


def test_limiter_and_gate_units():
    lim = ClientLimiter(per_minute=60, burst=2)
    assert [lim.take("a", now=0.0) for _ in range(2)] == [0.0, 0.0]
    assert lim.take("a", now=0.0) == pytest.approx(1.0)  # one token a second
    assert lim.take("b", now=0.0) == 0.0  # per client
    assert lim.take("a", now=1.0) == 0.0
    gate = Gate(2)
    assert [gate.try_enter() for _ in range(3)] == [True, True, False]
    gate.leave()
    assert gate.try_enter()
    trusted = frozenset({"10.0.0.1"})
    assert client_address("10.0.0.1", "1.2.3.4, 10.0.0.1", trusted) == "1.2.3.4"
    assert client_address("5.6.7.8", "1.2.3.4", trusted) == "5.6.7.8"  # untrusted peers cannot claim


def test_public_urls_never_follow_the_host_header(api_store):
    with TestClient(create_app(_settings(api_store))) as c:
        tj = c.get("/v1/tiles/soc_stock/tilejson.json", headers={"Host": "evil.example.com"}).json()
        assert "evil" not in tj["tiles"][0] and tj["tiles"][0].startswith("http://testserver/")
        fwd = {"X-Forwarded-Host": "evil.example.com", "X-Forwarded-Proto": "https"}
        assert "evil" not in c.get("/v1/stac", headers=fwd).text  # the peer is not a trusted proxy
    with TestClient(create_app(_settings(api_store, trusted_proxies=["testclient"]))) as c:
        fwd = {"X-Forwarded-Host": "soc.example.org", "X-Forwarded-Proto": "https"}
        tj = c.get("/v1/tiles/soc_stock/tilejson.json", headers=fwd).json()
        assert tj["tiles"][0].startswith("https://soc.example.org/v1/tiles/soc_stock/")
        bad = {"X-Forwarded-Host": "a.org/<script>", "X-Forwarded-Proto": "https"}
        tiles = c.get("/v1/tiles/soc_stock/tilejson.json", headers=bad).json()["tiles"][0]
        assert tiles.startswith("http://testserver/v1/tiles/")  # not a valid host: ignored
    with TestClient(create_app(_settings(api_store, public_url="https://obs.example.net/api/"))) as c:
        tj = c.get("/v1/tiles/soc_stock/tilejson.json", headers={"Host": "evil.example.com"}).json()
        assert tj["tiles"][0].startswith("https://obs.example.net/api/v1/tiles/")
        stac = c.get("/v1/stac").json()
        assert stac["links"][0]["href"] == "https://obs.example.net/api/v1/stac"


def test_no_server_path_in_any_answer(client, api_store, tmp_path):
    stac = client.get("/v1/stac")
    assert api_store.store not in stac.text and str(api_store.root) not in stac.text
    assert stac.json()["assets"]["soc_stock"]["href"] == "store#/indicators/soc_stock"
    with TestClient(create_app(_settings(api_store, public_store_url="s3://bucket/obs"))) as c:
        assert (
            c.get("/v1/stac").json()["assets"]["soc_stock"]["href"] == "s3://bucket/obs#/indicators/soc_stock"
        )
    missing = str(tmp_path / "no-store-here")
    app = create_app(Settings(store=missing, registry=api_store.registry, poll_seconds=3600))
    with TestClient(app) as c:
        for path in ("/v1/status", "/readyz", "/v1/regions", "/v1/point?lat=0&lon=0"):
            r = c.get(path)
            body = _problem(r, 503)
            assert missing not in r.text and "no-store-here" not in r.text, (path, body)
            assert int(r.headers["retry-after"]) > 0
        assert c.get("/healthz").status_code == 200  # alive, not ready


@pytest.mark.parametrize("path", ["/v1/regions/FRA", "/v1/regions/KEN?geometry=true", "/v1/stac"])
def test_every_answer_names_its_snapshot(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["x-snapshot-id"] == client.get("/readyz").json()["snapshot_id"]


def test_region_geometry_is_cached_with_an_etag(client):
    r = client.get("/v1/regions/KEN", params={"geometry": "true"})
    assert r.status_code == 200 and r.json()["geometry"]["type"] in ("Polygon", "MultiPolygon")
    again = client.get(
        "/v1/regions/KEN", params={"geometry": "true"}, headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    other = client.get("/v1/regions/FRA", params={"geometry": "true"})
    assert other.headers["etag"] != r.headers["etag"]
    coords = np.asarray(r.json()["geometry"]["coordinates"][0][0] if r.json()["geometry"]["type"] == "MultiPolygon"
                        else r.json()["geometry"]["coordinates"][0])  # fmt: skip
    assert 33 < coords[:, 0].mean() < 42  # Kenya


def test_metrics_count_routes_caches_and_snapshot_age(client):
    client.get("/v1/point", params={"lat": 48.3, "lon": 2.7})
    client.get("/v1/tiles/soc_stock/1/1/0.png")
    client.get("/v1/tiles/soc_stock/1/1/0.png")
    text = client.get("/metrics").text
    assert 'socobs_http_requests_total{method="GET",route="/v1/point",status="200"}' in text
    assert 'socobs_http_request_duration_seconds_bucket{le="0.1",method="GET",route="/v1/point"}' in text
    hits = [ln for ln in text.splitlines() if ln.startswith('socobs_cache_hits_total{cache="responses"}')]
    assert hits and float(hits[0].split()[-1]) >= 1
    age = [ln for ln in text.splitlines() if ln.startswith("socobs_snapshot_age_seconds")]
    assert age and float(age[0].split()[-1]) > 0
    assert 'route="unmatched"' not in text or "/v1/nope" not in text  # raw paths never become labels


def test_repeated_gets_are_answered_from_the_kept_answer(client):
    path = "/v1/tiles/soc_change_rate/3/4/2.png"
    first, again = client.get(path), client.get(path)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and first.headers["etag"] == again.headers["etag"]
    assert first.headers["x-request-id"] != again.headers["x-request-id"]  # each request its own id
    cond = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert cond.status_code == 304 and cond.content == b"" and cond.headers["etag"] == first.headers["etag"]
    head = client.head(path)
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == first.headers["etag"]
    csv = client.get("/v1/regions/FRA/indicators/soc_stock", headers={"Accept": "text/csv"})
    js = client.get("/v1/regions/FRA/indicators/soc_stock")
    assert (
        csv.headers["content-type"].startswith("text/csv")
        and js.headers["content-type"] == "application/json"
    )


def test_kept_answers_belong_to_one_snapshot():
    from observatory_api.responses import ResponseCache

    rc = ResponseCache()
    key = rc.key("SNAP1", "/v1/point", b"lat=1&lon=2", {})
    assert key is not None
    hdrs = [(b"content-type", b"application/json"), (b"x-snapshot-id", b"SNAP1")]
    rc.offer(key, "/v1/point", 200, hdrs, b"{}")
    assert rc.get(key) is not None
    assert rc.get(rc.key("SNAP2", "/v1/point", b"lat=1&lon=2", {})) is None  # a new commit: not served
    stale = rc.key("SNAP2", "/v1/point", b"lat=3&lon=4", {})
    rc.offer(stale, "/v1/point", 200, hdrs, b"{}")  # answered from SNAP1 while SNAP2 is served
    assert rc.get(stale) is None
    for route, status in (("/v1/status", 200), ("/v1/point", 404)):
        k = rc.key("SNAP1", route, b"", {})
        rc.offer(k, route, status, hdrs, b"{}")
        assert rc.get(k) is None
    assert rc.key("SNAP1", "/v1/regions/KEN", b"geometry=true", {}) is None


def test_answers_are_prepared_from_a_new_snapshot_before_the_swap(api_store):
    from pipeline.store import open_repo

    history = [s.id for s in open_repo(api_store.store).ancestry(branch="main")]
    settings = _settings(api_store)
    older = load_snapshot(settings, history[1])  # the indicators commit, before RothC's
    paths = ["/v1/regions/FRA/summary", "/v1/tiles/soc_stock/2/2/1.png", "/v1/point?lat=48.3&lon=2.7"]
    app = create_app(settings)
    with TestClient(app) as c:
        served = [c.get(p) for p in paths]
        current = c.get("/readyz").json()["snapshot_id"]
        assert all(r.headers["x-snapshot-id"] == current != older.snapshot_id for r in served)
        rc = app.state.responses
        kept = c.portal.call(rc.prepare, app, older, app.state.reader.loaded)
        assert kept >= len(paths)
        for p, r in zip(paths, served, strict=True):
            path, _, query = p.partition("?")
            hit = rc.get(
                rc.key(older.snapshot_id, path, query.encode(), {b"accept": b"*/*"})
            )  # httpx sends it
            assert hit is not None and dict(hit.headers)[b"x-snapshot-id"] == older.snapshot_id.encode()
            if path.endswith(".png"):
                assert hit.body == r.content  # the same map in both commits: the same tile
            else:
                assert older.snapshot_id.encode() in hit.body
