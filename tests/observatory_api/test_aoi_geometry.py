"""POST /v1/aoi/assess under hostile geometry: every request bounded, the right answer or a clear
4xx; areas against pyproj's geodesic areas; the antimeridian and the poles."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from kernels.areas import geographic_row_areas
from observatory_api.aoi_grid import GridGeometry, Window, dilate
from observatory_api.geometry import MAX_EDGE_PAIRS, parse_aoi, ring_area_m2, unwrap
from tests.observatory_api.shapes import comb, polygon, spiral, star

GEOD = Geod(ellps="WGS84")


def geodesic_km2(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.segmentize(geom, 0.01))[0]) / 1e6


def assess(client, geometry, **kw):
    return client.post("/v1/aoi/assess", json={"geometry": geometry, **kw})


def _problem(r, status, parameter="geometry"):
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["parameter"] == parameter
    return r.json()


def test_a_20000_pointed_star_is_refused_before_any_heavy_step(client):
    body = _problem(assess(client, polygon(star(19_999)), ring_km=200), 413)  # 20 000 positions
    assert body["allowed"] == {"max_edge_pairs": MAX_EDGE_PAIRS} and "intricate" in body["detail"]


@pytest.mark.parametrize(("name", "ring"), [("star", star(2_000)), ("spiral", spiral(19_998)),
                                            ("comb", comb(19_996))])  # fmt: skip
def test_intricate_but_accepted_shapes_get_their_true_area(client, name, ring):
    r = assess(client, polygon(ring), ring_km=200)
    assert r.status_code == 200, r.text[:300]
    p = r.json()["project"]
    truth = geodesic_km2(shapely.Polygon(ring))
    assert p["area_km2"] == pytest.approx(truth, rel=1e-3), name
    # coverage on the 2-degree grid at up to 16 x 16 sub-cells: valid area within a few percent
    assert 0 < p["valid_area_km2"] <= truth * 1.1
    assert r.json()["control"]["valid_area_km2"] > 0


def test_many_parts_and_holes(client):
    tri = [[[[i % 90, 40], [i % 90 + 1, 40], [i % 90, 41], [i % 90, 40]]] for i in range(10_000)]
    body = _problem(assess(client, {"type": "MultiPolygon", "coordinates": tri}), 413)
    assert "vertices" in body["detail"] or "parts" in body["detail"]
    few = {"type": "MultiPolygon", "coordinates": tri[:1_001]}
    assert _problem(assess(client, few), 413)["allowed"] == {"max_parts": 1_000}
    outer = [(0, 40), (5, 40), (5, 44), (0, 44)]
    holes = [[(x, y), (x + 0.1, y), (x + 0.1, y + 0.1), (x, y + 0.1)] for x in np.arange(0.2, 4.8, 0.15)
             for y in np.arange(40.2, 43.8, 0.12)]  # fmt: skip
    assert len(holes) >= 900
    r = assess(client, polygon(outer, holes[:900]))
    assert r.status_code == 200, r.text[:300]
    truth = geodesic_km2(shapely.Polygon(outer)) - sum(geodesic_km2(shapely.Polygon(h)) for h in holes[:900])
    assert r.json()["project"]["area_km2"] == pytest.approx(truth, rel=1e-4)
    many = holes + [[(x, 43.85), (x + 0.03, 43.85), (x + 0.03, 43.9)] for x in np.arange(0.2, 4.8, 0.05)]
    assert _problem(assess(client, polygon(outer, many)), 413)["allowed"] == {"max_holes": 1_000}


def test_bowties_and_broken_rings_are_422(client):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}
    assert "Self-intersection" in _problem(assess(client, bowtie), 422)["detail"]
    open_ring = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2]]]}
    assert "not closed" in _problem(assess(client, open_ring), 422, "geometry.coordinates")["detail"]
    outside = polygon([(0, 0), (200, 0), (200, 1)])
    _problem(assess(client, outside), 422, "geometry.coordinates")
    nested = {"type": "Polygon", "coordinates": [[[[0, 0]]]]}
    _problem(assess(client, nested), 422, "geometry.coordinates")


def test_an_antimeridian_square_is_that_square(client):
    across = polygon([(179.5, 65), (-179.5, 65), (-179.5, 66), (179.5, 66)])  # Chukotka
    r = assess(client, across)
    assert r.status_code == 200, r.text
    p = r.json()["project"]
    truth = geodesic_km2(shapely.box(179.5, 65, 180.5, 66))
    assert p["area_km2"] == pytest.approx(truth, rel=0.01)
    assert 0 < p["valid_area_km2"] <= truth * 1.05  # not a 359-degree band
    split = {"type": "MultiPolygon", "coordinates": [polygon([(179.5, 65), (180, 65), (180, 66), (179.5, 66)])[
        "coordinates"], polygon([(-180, 65), (-179.5, 65), (-179.5, 66), (-180, 66)])["coordinates"]]}  # fmt: skip
    s = assess(client, split).json()["project"]
    assert s["area_km2"] == pytest.approx(p["area_km2"], rel=1e-9)
    assert s["valid_area_km2"] == pytest.approx(p["valid_area_km2"], rel=1e-9)
    assert s["stock_start"] == pytest.approx(p["stock_start"], rel=1e-9)


def test_the_whole_world_and_the_poles(client):
    world = polygon([(-180, -90), (180, -90), (180, 90), (-180, 90)])
    body = _problem(assess(client, world), 413)
    assert "510,065,62" in body["detail"]  # km2: the Earth's true area, not a wrong one
    cap = polygon([(0, 88), (90, 88), (180, 88), (-90, 88)])  # winds once around the North Pole
    assert "latitudes" in _problem(assess(client, cap), 422)["detail"]  # the maps stop at 84 N


def test_polygon_areas_are_exact_on_the_ellipsoid():
    rng = np.random.default_rng(4)
    for _ in range(20):
        cx, cy = rng.uniform(-170, 170), rng.uniform(-70, 70)
        pts = np.c_[cx + rng.uniform(-2, 2, 3), cy + rng.uniform(-2, 2, 3)]
        tri = shapely.Polygon(pts)
        if not tri.is_valid or tri.area < 0.01:
            continue
        xy = np.r_[pts, pts[:1]]
        assert ring_area_m2(xy) / 1e6 == pytest.approx(geodesic_km2(tri), rel=1e-3)
    zone = float(geographic_row_areas([80.0, 90.0], 360.0)[0]) / 1e6  # the 80-90 N cap, from the kernel
    cap = parse_aoi(polygon([(0, 80), (90, 80), (180, 80), (-90, 80)]), 100, 1e12)
    assert cap.area_km2 == pytest.approx(zone, rel=1e-9)
    south = parse_aoi(polygon([(0, -80), (-90, -80), (180, -80), (90, -80)]), 100, 1e12)
    assert south.area_km2 == pytest.approx(zone, rel=1e-9)


def test_unwrapping_rules():
    xy, turns = unwrap(np.array([[179.5, 0], [-179.5, 0], [-179.5, 1], [179.5, 1], [179.5, 0]]))
    assert turns == 0 and xy[:, 0].tolist() == [179.5, 180.5, 180.5, 179.5, 179.5]
    world = np.array([[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]], dtype=float)
    assert unwrap(world)[0][:, 0].tolist() == world[:, 0].tolist()  # pole edges kept as written
    _, turns = unwrap(np.array([[0, 80], [120, 80], [-120, 80], [0, 80]], dtype=float))
    assert turns == 1


def test_the_ring_is_the_cells_within_ring_km_by_geodesic_distance():
    g = GridGeometry(x0=0.0, y0=60.0, dx=0.25, dy=-0.25, ny=80, nx=80)
    win = Window(0, 80, 0, 80, g)
    mask = np.zeros((80, 80), dtype=bool)
    mask[38:42, 30:33] = True
    ring_km = 60.0
    got = dilate(mask, win, ring_km)
    rows, cols = np.nonzero(mask)
    lon_c = lambda c: g.x0 + (c + 0.5) * g.dx  # noqa: E731
    lat_c = lambda r: g.y0 + (r + 0.5) * g.dy  # noqa: E731
    cell_km = 0.25 * 111.2
    for r in range(80):
        for c in range(80):
            # geodesic distance between cell centres, minus a cell's diagonal: a lower bound of the
            # edge-to-edge distance; plus nothing: an upper bound
            d = min(
                GEOD.inv(lon_c(c), lat_c(r), lon_c(cc), lat_c(rr))[2] / 1e3
                for rr, cc in zip(rows, cols, strict=True)
            )
            if d <= ring_km:
                assert got[r, c], (r, c, d)
            if d - 1.5 * cell_km > ring_km:
                assert not got[r, c], (r, c, d)
