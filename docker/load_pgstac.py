"""The compose deployment's ``pgstac-init`` service: migrate the pgstac schema, then load a static
STAC catalog (every collection and item under ``catalog.json``) into it, idempotently (upsert).

``python load_pgstac.py /data/demo-catalog/catalog.json``; the database comes from libpq's
``PGHOST``/``PGPORT``/``PGUSER``/``PGPASSWORD``/``PGDATABASE``, as ``pypgstac`` reads them. The
items keep their asset hrefs (``file:///data/demo-catalog/...``): every container that reads
them mounts the same volume at the same path.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pystac


def write_ndjson(catalog_json: str | Path, directory: Path) -> tuple[Path, Path, int]:
    """The catalog's collections and items as two newline-delimited JSON files (what
    ``pypgstac load`` reads), without links (pgstac makes its own); returns both paths and the
    number of items."""
    catalog = pystac.Catalog.from_file(str(catalog_json))
    cols, items = directory / "collections.ndjson", directory / "items.ndjson"
    n = 0
    with cols.open("w") as c, items.open("w") as i:
        for col in catalog.get_collections():
            doc = col.to_dict(include_self_link=False, transform_hrefs=False)
            doc["links"] = []
            c.write(json.dumps(doc) + "\n")
            for item in col.get_items():
                doc = item.to_dict(include_self_link=False, transform_hrefs=False)
                doc["links"] = []
                doc["collection"] = col.id
                i.write(json.dumps(doc) + "\n")
                n += 1
    return cols, items, n


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_file():
        print(
            f"load_pgstac: expected one argument, the path of a catalog.json; got {argv!r}. "
            "The compose file passes the demo catalog the demo-data service wrote.",
            file=sys.stderr,
        )
        return 2
    import tempfile

    subprocess.run(["pypgstac", "migrate"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        cols, items, n = write_ndjson(argv[0], Path(tmp))
        subprocess.run(["pypgstac", "load", "collections", str(cols), "--method", "upsert"], check=True)
        subprocess.run(["pypgstac", "load", "items", str(items), "--method", "upsert"], check=True)
    print(f"load_pgstac: loaded {n} items from {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
