"""The MRV-systems catalog (catalogs/mrv_systems.yaml, objective E1): valid against its schema,
which refuses what YAML silently turns into something else; every system says whether it
measures SOC change and how often, what kind of page its link opens, and which fields are not
yet checked; the facts issue #19 asks for are there."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "catalogs" / "schemas" / "mrv_systems.schema.json").read_text(encoding="utf-8"))
CATALOG = yaml.safe_load((ROOT / "catalogs" / "mrv_systems.yaml").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def _by_id() -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in CATALOG["systems"]}


def test_the_catalog_is_valid_and_ids_are_unique():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    VALIDATOR.validate(CATALOG)
    ids = [s["id"] for s in CATALOG["systems"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("change", "measured"), False),  # `measured: no` unquoted is a YAML boolean
        (("change", "measured"), "sometimes"),
        (("link_kind",), "home page"),
        (("link",), "http://insecure.example.org"),
        (("unverified",), ["colour"]),
    ],
)
def test_the_schema_refuses_a_wrong_value(path: tuple[str, ...], value: object):
    bad = copy.deepcopy(CATALOG)
    target = bad["systems"][0]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert not VALIDATOR.is_valid(bad)


def test_the_schema_refuses_a_system_without_the_change_field():
    bad = copy.deepcopy(CATALOG)
    del bad["systems"][3]["change"]
    errors = list(VALIDATOR.iter_errors(bad))
    assert errors and any("'change' is a required property" in e.message for e in errors)


def test_change_is_said_with_its_interval():
    for s in CATALOG["systems"]:
        change = s["change"]
        if change["measured"] in ("yes", "partly"):
            assert change["interval"], f"{s['id']}: how often is the change measured?"
    measured = {s["id"] for s in CATALOG["systems"] if s["change"]["measured"] == "yes"}
    # repeated-sampling soil inventories measure change; a single-release map does not
    assert {"lucas-soil", "rmqs", "bze-lw", "uk-countryside-survey"} <= measured
    assert _by_id()["soilgrids"]["change"]["measured"] == "no"


def test_links_to_an_organisation_are_marked_unverified():
    for s in CATALOG["systems"]:
        if s["link_kind"] == "organisation":
            assert "link" in s["unverified"], s["id"]
        assert set(s["unverified"]) <= set(s) - {"id", "unverified", "link_kind"}, s["id"]


def test_the_facts_the_issue_asks_for():
    systems = _by_id()
    assert systems["neon-soil"]["licence"].startswith("CC-BY 4.0")  # from CC0 in June 2026 (issue #19)
    assert "CC0" in systems["neon-soil"]["licence"]  # and says what it was
    solo = systems["mapbiomas-solo"]
    assert solo["scale"] == "national" and "Brazil" in solo["name"]
    assert solo["change"]["interval"] == "annual" and solo["change"]["measured"] != "no"
    shc = systems["india-soil-health-card"]
    assert "India" in shc["operator"] and "organic carbon" in shc["indicators"]
