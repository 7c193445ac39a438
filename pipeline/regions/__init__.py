"""Regions: global -> regions -> countries -> sub-national and custom sets.

- ``hierarchy``: the shipped hierarchy plus registered sets, their bounding boxes;
- ``build``: the recipe of ``catalogs/regions/regions.parquet`` from Natural Earth;
- ``zonal``: exact coverage fractions per (grid, region set), cached, and zonal tables.
"""
