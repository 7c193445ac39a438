"""Ex-ante impact assessment of projects and practices: IPCC Tier 1 for mineral soils.

The method is the 2019 Refinement's stock-change method (Vol. 4 Ch. 2 Eq. 2.25,
SOC = SOC_REF * F_LU * F_MG * F_I over 0-30 cm, linear transition over D = 20 years) with the
default tables kept as data in ``catalogs/ipcc/tier1_2019.yaml`` (each value with its edition,
table and row). Modules:

- ``tables``: load and validate the tables; the vocabulary; look a state's factors up (unknown
  names and undefined combinations are refused with the allowed values);
- ``project``: a project (activities, states, phases) read from a dict or a YAML file, checked;
- ``balance``: the deterministic balance, exact per adoption cohort, per year and in total;
- ``montecarlo``: the IPCC Approach 2 interval (seeded, vectorised);
- ``verdict``: "in line with 4 per 1000?" with its reasons, and the socio-economic block;
- ``practices``: the practice catalogue (``catalogs/practices.yaml``) and its Tier 1 dSOC per
  stratum;
- ``location``: what the observatory knows at a point (climate zone, measured stock, clay, SOC/clay,
  monthly climate), cached per served snapshot;
- ``tier2``: the same scenario through RothC at the location, alongside Tier 1;
- ``run``: ``assess(project)`` -> one JSON-ready result (a range over the zone's soil classes when
  soil_type is unknown), and its CSV form.

Sign convention (EX-ACT's): a balance is with-project minus without-project *emissions*, so a
gain of soil carbon is a negative number (a removal).
"""

from pipeline.assess.run import assess, assess_file, result_csv
from pipeline.assess.tables import AssessError, Tables, load_tables

__all__ = ["AssessError", "Tables", "assess", "assess_file", "load_tables", "result_csv"]
