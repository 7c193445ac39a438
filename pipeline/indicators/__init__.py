"""Indicators: the cube -> maps, overviews and region tables (one commit per run).

- ``registry``: every indicator described once (id, unit, definition, reference);
- ``inputs``: what the cube allows (a direct stock or content x bulk density, no cfvo, no
  quantiles, one epoch, no land cover) and the record of what could not be computed;
- ``maps``: per-pixel maps of one epoch (stock, change, rates, 4 per 1000, SOC/clay, trend);
- ``tables``: region x epoch x stratum tables at every level of the hierarchy (exact roll-ups);
- ``job``: ``socobs indicators`` (which epochs are new, compute, write, commit; reproduce);
- ``export``: tables as CSV / Parquet / GeoJSON and a STAC collection of the products.
"""
