"""``socobs-api`` / ``python -m observatory_api``: serve the API with uvicorn.

Options override the ``SOCOBS_*`` environment (see ``observatory_api.settings.Settings``).
"""

from __future__ import annotations

import argparse
import os


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="socobs-api", description="Serve the soc-observatory HTTP API.")
    ap.add_argument("--host", default="127.0.0.1", help="Interface to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8000, help="Port (default 8000)")
    ap.add_argument("--store", help="Icechunk repository (SOCOBS_STORE; default var/store)")
    ap.add_argument("--registry", help="Registered region sets (SOCOBS_REGISTRY; default var/regions)")
    ap.add_argument("--poll-seconds", type=float, help="Branch-tip polling interval (SOCOBS_POLL_SECONDS)")
    ap.add_argument("--workers", type=int, default=1, help="Worker processes (each polls the store)")
    ap.add_argument("--log-level", default="info")
    args = ap.parse_args(argv)
    for opt, env in (
        ("store", "SOCOBS_STORE"),
        ("registry", "SOCOBS_REGISTRY"),
        ("poll_seconds", "SOCOBS_POLL_SECONDS"),
    ):
        value = getattr(args, opt)
        if value is not None:
            os.environ[env] = str(value)
    from observatory_api.settings import Settings

    Settings()  # fail fast, before uvicorn starts, on an unsafe or invalid environment
    import uvicorn

    uvicorn.run("observatory_api.app:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level=args.log_level, access_log=False)  # fmt: skip


if __name__ == "__main__":
    main()
