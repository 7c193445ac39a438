"""The exception hierarchy of the pipeline package.

Every message says what was expected, what was received and how to fix it; the CLI prints
the message (no traceback) and exits non-zero.
"""


class PipelineError(Exception):
    """Base class of every error the pipeline reports to a user."""


class InputFileError(PipelineError):
    """A user-supplied file (region set, site file, job file) is missing or malformed."""


class RegionError(PipelineError):
    """A region set is inconsistent (ids, parents, CRS, geometry)."""


class CatalogError(PipelineError):
    """A STAC catalog cannot be written, read or served."""


class ServerError(PipelineError):
    """A local server (the STAC API) could not be started or did not become ready."""
