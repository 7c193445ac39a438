"""One error format everywhere: RFC 9457 ``application/problem+json``.

Every 4xx and 5xx body has ``type`` (a stable tag URI naming the kind of problem), ``title``,
``status`` and ``detail`` (what was expected, what was received, how to fix it), the request's
``request_id`` (also in the ``X-Request-Id`` header and the access log), and where it applies
``parameter`` (the one at fault) and ``allowed`` (what it may be). Unknown routes (404), wrong
methods (405), validation errors (422), oversized bodies (413), rate limits (429) and an
unreadable store (503, with ``Retry-After``) all use it; a 500 says only that the request failed
and names the request id the server log has the traceback under.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "tag:soc-observatory,2025:problem:"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid parameter",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "invalid-parameter",
    428: "precondition-required",
    429: "rate-limited",
    500: "internal-error",
    503: "store-unavailable",
}


class APIError(Exception):
    """Base of every error the API answers deliberately."""

    status = 400

    def __init__(
        self,
        detail: str,
        *,
        parameter: str | None = None,
        allowed: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.parameter = parameter
        self.allowed = allowed
        self.headers = headers or {}


class NotFound(APIError):
    status = 404


class BadParameter(APIError):
    status = 422


class PayloadTooLarge(APIError):
    status = 413


class Unauthorized(APIError):
    status = 401


class RateLimited(APIError):
    """429: this client asked for too much too fast; ``Retry-After`` says when to come back."""

    status = 429

    def __init__(self, detail: str, retry_after: float) -> None:
        wait = max(1, int(retry_after + 0.999))
        super().__init__(detail, headers={"Retry-After": str(wait)})


class NotReady(APIError):
    """503: nothing to serve yet, or the store cannot be read right now."""

    status = 503

    def __init__(self, detail: str, retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class StoreUnavailable(NotReady):
    """A read of the store failed (moved, unmounted, unreadable): retry later."""

    def __init__(self) -> None:
        super().__init__(
            "the store cannot be read right now (it may be moving, unmounted or being repaired); "
            "the failure is in the server log. Retry after the time in Retry-After."
        )


def problem(status: int, detail: str, *, request_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """An RFC 9457 problem body."""
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + SLUGS.get(status, str(status)),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if request_id is not None:
        body["request_id"] = request_id
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=body["status"], media_type=PROBLEM_JSON, headers=headers)


def request_id(request: Request) -> str | None:
    rid = request.scope.get("state", {}).get("request_id")
    return str(rid) if rid is not None else None


def _validation_detail(exc: RequestValidationError) -> tuple[str, str | None, Any, list[dict[str, Any]]]:
    errs = exc.errors()
    first = errs[0] if errs else {}
    loc = [str(p) for p in first.get("loc", ())]
    param = loc[-1] if loc else None
    allowed = (first.get("ctx") or {}).get("expected")
    got = first.get("input")
    detail = f"{'.'.join(loc) or 'request'}: {first.get('msg', 'invalid')}"
    if got is not None and not isinstance(got, (dict, list)):
        detail += f" (got {str(got)[:100]!r})"
    listed = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in errs[:10]]
    return detail + ".", param, allowed, listed


def install(app: FastAPI) -> None:
    """Register the handlers: ours, FastAPI's validation errors and Starlette's HTTP errors."""

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> Response:
        body = problem(
            exc.status,
            exc.detail,
            request_id=request_id(request),
            parameter=exc.parameter,
            allowed=exc.allowed,
        )
        return problem_response(body, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        detail, param, allowed, errors = _validation_detail(exc)
        body = problem(
            422, detail, request_id=request_id(request), parameter=param, allowed=allowed, errors=errors
        )
        return problem_response(body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        if status == 404:
            detail = f"no such resource: {request.url.path[:200]}. The endpoints are listed at /docs."
        elif status == 405:
            allow = (exc.headers or {}).get("Allow", "")
            detail = f"{request.method} is not allowed on {request.url.path[:200]}; use {allow or 'another method'}."
        else:
            detail = str(exc.detail)
        body = problem(status, detail, request_id=request_id(request))
        return problem_response(body, dict(exc.headers or {}))
