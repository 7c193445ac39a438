"""Alembic's environment for the registry: the connection comes from ``pipeline.registry.db``."""

from alembic import context

from pipeline.registry.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
