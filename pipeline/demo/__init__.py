"""The embedded demo (imported by the CLI only; an import contract checks it).

- ``synthetic``: clearly labelled synthetic fields over real Natural Earth land;
- ``catalog``: ``socobs demo-catalog``: those fields as COGs in a STAC catalog;
- ``runner``: ``socobs demo``: catalog -> STAC API -> ingest -> indicators -> RothC -> API.
"""
