"""``harmonise.public_href``: hrefs stored in a cube's provenance keep where the data came from and
never a credential from a signed URL."""

from __future__ import annotations

import pytest

from pipeline.ingest.harmonise import public_href

BLOB = "https://nrcs.blob.core.windows.net/gnatsgo/rasters/soc0_30.tif"


@pytest.mark.parametrize(
    ("href", "want"),
    [
        (
            f"{BLOB}?st=2026-12-02T05%3A00%3A00Z&se=2026-12-02T06%3A00%3A00Z&sp=rl&sv=2024-05-04&sr=c&sig=abc%3D",
            BLOB,
        ),
        (
            "https://b.s3.amazonaws.com/k.tif?X-Amz-Algorithm=AWS4&X-Amz-Signature=ff00",
            "https://b.s3.amazonaws.com/k.tif",
        ),
        (
            "https://storage.googleapis.com/b/k.tif?X-Goog-Signature=ff",
            "https://storage.googleapis.com/b/k.tif",
        ),
        (
            "https://example.org/wcs?service=WCS&coverage=soc",
            "https://example.org/wcs?service=WCS&coverage=soc",
        ),
        (BLOB, BLOB),
        ("/data/soc.tif", "/data/soc.tif"),
    ],
)
def test_credentials_are_dropped_and_other_queries_kept(href, want):
    assert public_href(href) == want
