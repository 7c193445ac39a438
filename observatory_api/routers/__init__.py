"""Routers, each built by a factory (``router()``) and included by ``create_app``."""
