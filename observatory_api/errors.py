"""One exception family, one table to HTTP statuses; bodies name the parameter and the allowed values."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response


class APIError(Exception):
    """Base of every error the API answers deliberately."""

    status = 400

    def __init__(self, detail: str, *, parameter: str | None = None, allowed: Any = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.parameter = parameter
        self.allowed = allowed


class NotFound(APIError):
    status = 404


class BadParameter(APIError):
    status = 422


class PayloadTooLarge(APIError):
    status = 413


class Unauthorized(APIError):
    status = 401


class NotReady(APIError):
    status = 503


def json_error(status: int, body: dict[str, Any]) -> Response:
    """An error body as JSON."""
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def install(app: FastAPI) -> None:
    """Register the handlers: our errors, FastAPI's validation errors (422 naming the parameter)."""

    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> Response:
        body: dict[str, Any] = {"error": type(exc).__name__, "detail": exc.detail}
        if exc.parameter is not None:
            body["parameter"] = exc.parameter
        if exc.allowed is not None:
            body["allowed"] = exc.allowed
        return json_error(exc.status, body)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        errs = exc.errors()
        first = errs[0] if errs else {}
        loc = [str(p) for p in first.get("loc", ())]
        param = loc[-1] if loc else None
        allowed = (first.get("ctx") or {}).get("expected")
        got = first.get("input")
        detail = f"{'.'.join(loc) or 'request'}: {first.get('msg', 'invalid')}"
        if got is not None and not isinstance(got, (dict, list)):
            detail += f" (got {got!r})"
        body: dict[str, Any] = {"error": "BadParameter", "detail": detail, "parameter": param}
        if allowed is not None:
            body["allowed"] = allowed
        body["errors"] = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in errs[:10]
        ]
        return json_error(422, body)
