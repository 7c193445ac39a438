"""What the API answers, as plain functions of a ``Snapshot`` (no FastAPI, no HTTP).

Each module computes the body of one family of endpoints from the snapshot a request took:
``summary`` and ``rankings`` from the region tables, ``series`` (JSON rows and CSV), ``maps``
(tiles, TileJSON, legends, point values), ``aoi`` (a project polygon against its control ring),
``status`` and ``stac`` (what the store holds and where it came from), ``catalog`` (the MRV
systems). The routers in ``observatory_api.routers`` parse a request, call one of these and
serialise the result; errors are raised as ``observatory_api.errors.APIError`` subclasses.
"""
