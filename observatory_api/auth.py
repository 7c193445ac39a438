"""Who may write to the registry: API keys with roles, from ``Authorization: Bearer <key>`` or
``X-API-Key``.

Reads are public; a write needs a live key whose role is at least the one required (viewer <
editor < admin): no key or an unknown, malformed or revoked one is 401, a key of a lesser role
403. Keys are the registry's (``socobs keys create``, checked in constant time against a salted
hash, ``pipeline.registry.keys``). The older ``SOCOBS_ADMIN_API_KEY`` (which guards
``/v1/admin/refresh``) is accepted as an admin key too, so one operator secret keeps working.
A key check costs a scrypt hash, so keyed requests count against the client's budget of expensive
requests (``SOCOBS_CLIENT_REQUESTS_PER_MINUTE``; more: 429).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from observatory_api.deps import limit_client
from observatory_api.errors import APIError, NotReady, Unauthorized
from pipeline.registry.keys import RANK, ROLES, verify_key

HEADERS = {"WWW-Authenticate": 'Bearer realm="soc-observatory registry"'}


class Forbidden(APIError):
    status = 403


class PreconditionRequired(APIError):
    status = 428


@dataclass(frozen=True)
class Caller:
    who: str  # "key:<id>" (the audit log's who)
    role: str


def registry_url(request: Request) -> str:
    """The registry's database URL; 503 when it could not be opened at start-up."""
    url: str | None = getattr(request.app.state, "registry_url", None)
    if url is None:
        reason = getattr(request.app.state, "registry_error", "not opened yet")
        raise NotReady(
            f"the registry is unavailable: {reason} Restart the API once that is fixed; the rest of the "
            "API is served meanwhile.",
            retry_after=60,
        )
    return url


def _presented(authorization: str | None, x_api_key: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(
                "Authorization: expected `Bearer <key>` (or the key in X-API-Key); got another scheme. "
                "Create a key with `socobs keys create --role editor`.",
                parameter="Authorization",
                headers=HEADERS,
            )
        return token.strip()
    return None


def caller(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Caller:
    """The authenticated caller (401 without a live key)."""
    key = _presented(authorization, x_api_key)
    if key is None:
        raise Unauthorized(
            "this request writes to the registry and needs an API key; none was sent. Send "
            "`Authorization: Bearer <key>` or `X-API-Key: <key>` (create one with "
            "`socobs keys create --role editor`). Reads need no key.",
            parameter="Authorization",
            headers=HEADERS,
        )
    admin = request.app.state.settings.admin_api_key
    if admin is not None and hmac.compare_digest(key.encode(), admin.get_secret_value().encode()):
        return Caller("settings:SOCOBS_ADMIN_API_KEY", "admin")
    url = registry_url(request)
    limit_client(request, "key")  # a key check costs a scrypt hash: bounded per client like AOIs
    info = verify_key(url, key)
    if info is None:
        raise Unauthorized(
            "the API key sent is not a live key of this registry (unknown, mistyped or revoked). "
            "Check it, or ask an admin for a new one (`socobs keys create`).",
            parameter="Authorization",
            headers=HEADERS,
        )
    return Caller(f"key:{info.id}", info.role)


def require(role: str) -> Callable[[Caller], Caller]:
    """A dependency: the caller, whose key has at least ``role`` (else 403)."""
    assert role in ROLES

    def dep(c: Annotated[Caller, Depends(caller)]) -> Caller:
        if RANK[c.role] < RANK[role]:
            raise Forbidden(
                f"this request needs a key with the role {role} or above; the key sent is a "
                f"{c.role} key. Ask an admin for a {role} key (`socobs keys create --role {role}`).",
                parameter="Authorization",
                allowed=[r for r in ROLES if RANK[r] >= RANK[role]],
            )
        return c

    return dep


Editor = Annotated[Caller, Depends(require("editor"))]
Admin = Annotated[Caller, Depends(require("admin"))]
