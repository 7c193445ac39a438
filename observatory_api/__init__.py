"""The observatory's HTTP API (FastAPI). Reads the store, never writes it."""
