"""The map page's projects layer: two projects registered through the API (with a key made by
`socobs keys create` against the API's own database) are drawn on the map when "Projects" is
ticked (&projects=1); a click on one shows that project's name, organisation, practices and
assessments in the side panel; no console error; axe finds nothing serious.

The API here is its own process with its own working folder (SOCOBS_VAR: the registry database
VAR/registry.sqlite), so the projects are exactly the two registered here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Api, goto, open_page
from tests.browser.test_pages import axe_violations

pytestmark = pytest.mark.integration
SOCOBS = Path(sys.executable).parent / "socobs"
PROJECTS: list[dict[str, Any]] = [
    {
        "name": "Beauce cover crops",
        "country": "FRA",
        "practices": ["cover_crops", "reduced_tillage"],
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[1.0, 46.0], [4.5, 46.2], [4.0, 48.5], [1.5, 48.0], [1.0, 46.0]]],
        },
    },
    {
        "name": "Rift grazing",
        "country": "KEN",
        "practices": ["improved_grazing"],
        "area_ha": 1200.0,
        "geometry": {"type": "Point", "coordinates": [37.0, 0.4]},
    },
]


@pytest.fixture(scope="module")
def registry_api(api_store: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Path]]:
    root = tmp_path_factory.mktemp("projects-api")
    shutil.copytree(api_store.store, root / "repo")
    var = root / "var"
    var.mkdir()
    saved = {k: os.environ.get(k) for k in ("SOCOBS_VAR", "SOCOBS_DATABASE_URL")}
    os.environ["SOCOBS_VAR"] = str(var)  # the API's registry: VAR/registry.sqlite
    os.environ.pop("SOCOBS_DATABASE_URL", None)
    try:
        api = Api(str(root / "repo"), api_store.registry, root / "api.log")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield api, var
    api.stop()


def _register(api: Api, var: Path) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k != "SOCOBS_DATABASE_URL"}
    made = subprocess.run(
        [str(SOCOBS), "keys", "create", "--role", "editor", "--note", "browser test", "--var", str(var)],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    h = {"Authorization": f"Bearer {made.stdout.strip()}"}
    c = httpx.Client(base_url=api.base, timeout=60)
    org = {"name": "Living soils lab", "membership": "partner", "type": "research", "country": "FRA"}
    assert c.post("/v1/organisations", json=org, headers=h).status_code == 201
    out = []
    for p in PROJECTS:
        props = {k: v for k, v in p.items() if k != "geometry"}
        body = {
            "type": "Feature",
            "geometry": p["geometry"],
            "properties": {
                **props,
                "organisation": "Living soils lab",
                "start_date": "2021-01-01",
                "end_date": "2031-01-01",
            },
        }
        r = c.post("/v1/projects", json=body, headers=h)
        assert r.status_code == 201, r.text
        out.append(r.json())
    return out


def test_projects_layer_draws_the_registry_and_a_click_shows_a_project(
    browser: Any, registry_api: tuple[Api, Path]
) -> None:
    api, var = registry_api
    made = _register(api, var)
    listed = api.json("/v1/projects")["features"]
    assert sorted(f["id"] for f in listed) == sorted(m["id"] for m in made)
    context, page, watch = open_page(browser, api)
    try:
        goto(page, api, "map?projects=1")  # the whole world: every project in view
        page.wait_for_selector(".map[data-state=idle]", state="attached")
        assert page.is_checked("#map-projects")
        drawn = page.get_attribute(".map", "data-projects") or ""
        assert sorted(int(i) for i in drawn.split(",")) == sorted(x["id"] for x in listed)
        for f in listed:
            props = f["properties"]
            geom = f["geometry"]
            lon, lat = geom["coordinates"] if geom["type"] == "Point" else props["centroid"]
            goto(page, api, f"map?projects=1&z=4&c={lon},{lat}")
            page.wait_for_selector(".map[data-state=idle]", state="attached")
            assert str(f["id"]) in (page.get_attribute(".map", "data-projects") or "").split(",")
            page.locator(".map canvas").click()  # the map is centred on the project
            page.wait_for_selector(f".side[data-project='{f['id']}']")
            text = page.inner_text(".side")
            assert props["name"] in text and "Living soils lab" in text
            assert all(p in text for p in props["practices"])
            assert "not assessed yet" not in text.split("Ex-ante")[1].split("\n")[1]  # assessed on POST
        # unticking removes the layer, and the URL says so
        page.uncheck("#map-projects")
        page.wait_for_selector(".map[data-state=idle]:not([data-projects])", state="attached")
        assert "projects=1" not in page.url
        assert axe_violations(page) == []
        goto(page, api, "map?projects=1&lang=fr")
        page.wait_for_selector(".map[data-state=idle]", state="attached")
        assert page.inner_text("label:has(#map-projects)").strip() == "Projets"
        assert axe_violations(page) == []
        watch.check()
    finally:
        context.close()
