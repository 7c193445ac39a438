"""The observatory's HTTP API (FastAPI). Reads the store, never writes it."""

from observatory_api.app import create_app
from observatory_api.settings import Settings

__all__ = ["Settings", "create_app"]
