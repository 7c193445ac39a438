"""The "4 per 1000" Initiative's objectives and KPIs (objective F3: a dashboard of its progress).

- ``catalog``: the 24 objectives of the Strategic Plan and their KPIs, as data
  (``catalogs/kpis/objectives.yaml``, schema ``catalogs/schemas/kpis.schema.json``), read and checked.
- ``computed``: the KPIs the observatory computes itself from a store snapshot's region tables
  and from the MRV-systems catalog, each value naming its snapshot.
- ``report``: every objective and KPI with its series, latest value, progress towards the 2030
  and 2050 targets and trend (what ``GET /v1/kpis`` and ``socobs kpi list`` show).
"""
