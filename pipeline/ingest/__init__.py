"""Ingestion: STAC items -> the cube.

- ``stac``: search any STAC API (retries, paging) and parse items once into typed records;
- ``stac_server``: a real STAC API on 127.0.0.1 (``rustac serve``) over a local catalog;
- ``harmonise``: load items onto the job's grid (odc-stac, dask), decode nodata/scale/offset,
  depth intervals, the composite of each epoch or month;
- ``units``: the one unit registry (every conversion to DESIGN.md's canonical units);
- ``job``: ``socobs ingest`` / ``socobs update`` (search -> harmonise -> one commit).
"""
