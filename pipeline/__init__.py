"""STAC search, loading, harmonisation, the cube store, indicator jobs and the CLI."""
