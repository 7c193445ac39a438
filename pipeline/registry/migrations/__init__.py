"""Alembic migrations of the registry, shipped inside the package (``env.py``, ``versions/``);
run by ``pipeline.registry.db.upgrade`` (no alembic.ini needed)."""
