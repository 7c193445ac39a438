"""``socobs-api`` / ``python -m observatory_api``: serve the API with uvicorn.

Options override the ``SOCOBS_*`` environment (see ``observatory_api.settings.Settings``).
Bad settings (an option, a ``SOCOBS_*`` variable, a store path that cannot be one) are
reported as one paragraph on stderr with exit code 2, before uvicorn starts; never a traceback.

The store may not exist yet when its folder does (a deployment starts the API before the first
job commits: it answers 503 until then); a store whose folder does not exist either is a typo
and is refused.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

_ENV = {"store": "SOCOBS_STORE", "registry": "SOCOBS_REGISTRY", "poll_seconds": "SOCOBS_POLL_SECONDS"}
_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"error: socobs-api: {message}\n")
    sys.exit(2)


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors as one paragraph (what, usage, the help to read)."""

    def error(self, message: str) -> NoReturn:
        usage = self.format_usage().strip().removeprefix("usage: ")
        usage = " ".join(usage.split())
        _fail(f"{message[:300]}. Usage: `{usage}`. See `socobs-api --help`.")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text[:200]!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {value}")
    return value


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text[:200]!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
        return value

    return parse


def _settings_problem(exc: Exception) -> str:
    """One paragraph naming the SOCOBS_* variable (or option) a settings error is about."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):  # pydantic-settings cannot even parse a variable
        return f"{str(exc)[:300]}. Fix the SOCOBS_* variable it names (lists are JSON, e.g. '[\"https://a.org\"]')."
    parts = []
    for err in exc.errors()[:5]:
        field = str(err["loc"][0]) if err["loc"] else ""
        got = repr(err.get("input"))[:200]
        name = f"SOCOBS_{field.upper()}" + (f" (or --{field.replace('_', '-')})" if field in _ENV else "")
        msg = err["msg"].removeprefix("Value error, ").rstrip(".")
        parts.append(f"{name}: {msg} (got {got})" if field else msg)
    return "; ".join(parts) + ". Fix or unset the variable and start again."


def _check_paths(store: str, registry: Path) -> None:
    if "://" not in store:
        p = Path(store)
        if p.exists() and not p.is_dir():
            _fail(
                f"--store/SOCOBS_STORE {store[:200]!r} is a file; expected the folder of an Icechunk store."
            )
        if not p.exists() and not p.parent.exists():
            _fail(
                f"--store/SOCOBS_STORE {store[:200]!r}: no store there and no folder {str(p.parent)[:200]!r} "
                "to hold one. Expected the path of a store written by `socobs ingest` or `socobs demo` "
                "(default var/store); check the path."
            )
    if registry.exists() and not registry.is_dir():
        _fail(
            f"--registry/SOCOBS_REGISTRY {str(registry)[:200]!r} is a file; expected a folder of region sets."
        )


def main(argv: list[str] | None = None) -> None:
    ap = _Parser(prog="socobs-api", description="Serve the soc-observatory HTTP API.")
    ap.add_argument("--host", default="127.0.0.1", help="Interface to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=_port, default=8000, help="Port 0-65535 (default 8000)")
    ap.add_argument(
        "--store", help="Icechunk repository (SOCOBS_STORE; default $SOCOBS_VAR/store, var/store)"
    )
    ap.add_argument(
        "--registry", help="Registered region sets (SOCOBS_REGISTRY; default $SOCOBS_VAR/regions)"
    )
    ap.add_argument("--poll-seconds", type=float, help="Branch-tip polling interval (SOCOBS_POLL_SECONDS)")
    ap.add_argument(
        "--workers", type=_positive(int), default=1, help="Worker processes (each polls the store)"
    )
    ap.add_argument("--log-level", default="info", choices=_LEVELS)
    args = ap.parse_args(argv)
    for opt, env in _ENV.items():
        value = getattr(args, opt)
        if value is not None:
            os.environ[env] = str(value)
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from observatory_api.settings import Settings

    try:  # fail fast, before uvicorn starts, on an unsafe or invalid environment
        settings = Settings()
    except (ValidationError, SettingsError) as exc:
        _fail(_settings_problem(exc))
    _check_paths(settings.store, settings.registry)
    import uvicorn

    uvicorn.run("observatory_api.app:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level=args.log_level, access_log=False)  # fmt: skip


if __name__ == "__main__":
    main()
