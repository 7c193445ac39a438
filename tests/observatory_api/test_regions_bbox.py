"""The API serves each region's bbox and main_bbox (west > east across the antimeridian) and
its name decoded correctly."""

from __future__ import annotations

import pytest

AFRICA_LIMIT = (-26, -47, 64, 38)
NAMES = {"CIV": "Côte d'Ivoire", "CUW": "Curaçao", "ALA": "Åland", "STP": "São Tomé and Príncipe"}


def _width(b: list[float]) -> float:
    w, _, e, _ = b
    return e - w if w <= e else e - w + 360.0


@pytest.fixture(scope="module")
def countries(client) -> dict[str, dict]:
    r = client.get("/v1/regions", params={"level": "country"})
    assert r.status_code == 200
    return {x["region_id"]: x for x in r.json()["regions"]}


def test_every_listed_box_is_valid(client):
    body = client.get("/v1/regions").json()
    assert body["count"] > 250
    for x in body["regions"]:
        for key in ("bbox", "main_bbox"):
            w, s, e, n = x[key]
            assert -180 <= w <= 180 and -180 <= e <= 180 and -90 <= s < n <= 90, (x["region_id"], key)


@pytest.mark.parametrize("rid", ["FJI", "RUS", "NZL", "USA"])
def test_antimeridian_countries_in_the_list(countries, rid):
    w, _, e, _ = countries[rid]["bbox"]
    assert w > e


def test_fiji_detail_crosses_the_antimeridian(client):
    d = client.get("/v1/regions/FJI").json()
    w, s, e, n = d["bbox"]
    assert w > 170 and e < -170 and _width(d["bbox"]) < 10 and -22 < s < n < -12
    assert d["main_bbox"][0] > d["main_bbox"][2]  # Viti Levu to the Lau group crosses it too


def test_africa_main_box_and_its_children(client):
    d = client.get("/v1/regions/africa").json()
    w, s, e, n = d["main_bbox"]
    lw, ls, le, ln = AFRICA_LIMIT
    assert lw <= w < e <= le and ls <= s < n <= ln
    assert d["bbox"][2] > 100  # the whole region reaches Christmas Island; the main box does not
    kids = {c["region_id"]: c for c in d["children"]}
    assert kids["CIV"]["name"] == NAMES["CIV"] and len(kids["CIV"]["main_bbox"]) == 4
    assert d["parent"]["region_id"] == "global" and len(d["parent"]["bbox"]) == 4


def test_europe_main_box_is_not_the_globe(client):
    d = client.get("/v1/regions/europe").json()
    assert _width(d["main_bbox"]) < 300 and d["main_bbox"] != [
        -180,
        d["main_bbox"][1],
        180,
        d["main_bbox"][3],
    ]


def test_names_in_list_and_detail(client, countries):
    for rid, name in NAMES.items():
        assert countries[rid]["name"] == name
        assert client.get(f"/v1/regions/{rid}").json()["name"] == name
    assert [x["region_id"] for x in client.get("/v1/regions", params={"q": "curaçao"}).json()["regions"]] == [
        "CUW"
    ]


def test_openapi_documents_both_boxes(client):
    props = client.get("/openapi.json").json()["components"]["schemas"]["Region"]["properties"]
    assert "west > east" in props["bbox"]["description"]
    assert "antimeridian" in props["bbox"]["description"]
    assert "outlying islands" in props["main_bbox"]["description"]
