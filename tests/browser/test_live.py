"""A commit while the dashboard is open: the page shows the new snapshot without a reload (its
figures, the freshness panel, the banner, and the map's tiles), from the API's own poll."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.config import GridSpec, PeriodSpec
from pipeline.rothc.job import run_rothc_job
from pipeline.store import tip
from tests.browser.conftest import Api, goto, open_page
from tests.support.api_store import RES
from tests.support.demo import demo_job

pytestmark = pytest.mark.integration


def test_a_new_commit_shows_without_a_reload(browser: Any, dashboard_api: Api) -> None:
    api = dashboard_api
    store = api.store
    context, pg, watch = open_page(browser, api)
    before = tip(store)
    goto(pg, api, "overview")
    assert pg.inner_text("[data-fact=snapshot_id]") == before
    pg.evaluate("() => { window.notReloaded = true; }")
    maps = context.new_page()
    watch.attach(maps)
    goto(maps, api, "map?ind=soc_stock")
    maps.wait_for_selector(f".map[data-snapshot='{before}'][data-state=idle]", state="attached")
    job = demo_job(Path(store), grid=GridSpec(resolution=RES), period=PeriodSpec(start=2015, end=2017))
    new = run_rothc_job(job, years=5).snapshot_id  # a real pipeline commit
    assert new != before and tip(store) == new
    pg.wait_for_function(
        "(id) => document.querySelector('[data-fact=snapshot_id]')?.textContent === id", arg=new
    )
    assert pg.evaluate("() => window.notReloaded") is True
    assert new in pg.inner_text("#live")
    assert pg.inner_text("[data-footer-snapshot]") == new
    maps.wait_for_selector(f".map[data-snapshot='{new}'][data-state=idle]", state="attached")
    tiles = maps.evaluate(
        "() => performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('.png'))"
    )
    assert any(f"v={new}" in t for t in tiles), tiles  # the tiles were asked again, of the new snapshot
    watch.check()
    context.close()
