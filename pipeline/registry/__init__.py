"""The registry of the Initiative's members, partners and their projects (issue #18).

A real database (SQLite under ``--var`` by default, PostgreSQL by ``SOCOBS_DATABASE_URL``):

- ``models``: the SQLAlchemy 2 tables; ``migrations``: their Alembic history (shipped inside the
  package); ``db``: the URL, engines, ``upgrade``, sessions and the registry's errors;
- ``keys``: API keys with roles (viewer, editor, admin), salted scrypt hashes, constant-time checks;
- ``validate``: what an organisation or a project must be (geometry valid and on land in its
  country, dates in order, known practices, countries and organisations);
- ``assessment``: a project's ex-ante assessment by the E3 tool (``pipeline.assess``);
- ``service``: reads and writes, each write with its audit entry, optimistic locking;
- ``importer``: ``socobs registry import FILE.csv|FILE.geojson`` (all or nothing);
- ``kpis``: the registry's figures for the A2/E3 KPIs, recorded KPI observations.
"""

from pipeline.registry.db import ConflictError, NotFoundError, RegistryError, database_url, upgrade

__all__ = ["ConflictError", "NotFoundError", "RegistryError", "database_url", "upgrade"]
