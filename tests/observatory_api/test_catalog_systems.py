"""GET /v1/catalog/systems exposes the catalog's change, link_kind and unverified fields as the
YAML holds them, in the documented response model."""

from __future__ import annotations

from pathlib import Path

import yaml

from observatory_api.models import SystemList

CATALOG = Path(__file__).resolve().parents[2] / "catalogs" / "mrv_systems.yaml"


def test_the_endpoint_serves_the_new_fields(client):
    body = client.get("/v1/catalog/systems").json()
    SystemList.model_validate(body)  # the documented model (OpenAPI) describes the answer
    want = {s["id"]: s for s in yaml.safe_load(CATALOG.read_text(encoding="utf-8"))["systems"]}
    got = {s["id"]: s for s in body["systems"]}
    assert got.keys() == want.keys() and body["count"] == len(want)
    for sid, s in got.items():
        assert s["change"] == want[sid]["change"], sid
        assert (s["link_kind"], s["unverified"]) == (want[sid]["link_kind"], want[sid]["unverified"]), sid


def test_the_new_systems_are_found(client):
    national_models = client.get("/v1/catalog/systems", params={"kind": "model", "scale": "national"}).json()
    assert "mapbiomas-solo" in {s["id"] for s in national_models["systems"]}
    found = client.get("/v1/catalog/systems", params={"q": "farmers welfare"}).json()
    assert [s["id"] for s in found["systems"]] == ["india-soil-health-card"]
    assert found["systems"][0]["change"]["measured"] == "partly"
