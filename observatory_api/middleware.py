"""``Front``: the outermost layer of every HTTP request (one pure ASGI middleware, for speed).

- gives the request an id (a client's ``X-Request-Id`` if it is a short token, else a new one),
  returned in ``X-Request-Id`` and named by every problem body and log line;
- answers ``HEAD`` wherever ``GET`` is answered (the GET response's headers, no body);
- limits the body on the bytes actually received, chunked or not, before anything parses it
  (413 as soon as the limit is passed; the rest of the body is never buffered);
- turns an unhandled exception into a problem+json 500 that names the request id and nothing
  else (the traceback goes to the log), or a 503 with ``Retry-After`` when the store could not
  be read;
- answers a repeated GET from the answers kept for the snapshot served
  (``observatory_api.responses``), without routing it again;
- writes the access log line and the request's metrics.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observatory_api.errors import NotReady, problem, problem_response
from observatory_api.limits import client_address
from observatory_api.observability import Metrics, log_access, now
from observatory_api.responses import Kept, ResponseCache

log = logging.getLogger("observatory_api")
_TOKEN = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
_PREFIX = secrets.token_hex(4)  # this process's; then a counter: unique ids at no cost
_COUNTER = itertools.count()


class BodyTooLarge(Exception):
    pass


class Front:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int,
        metrics: Metrics,
        trusted_proxies: frozenset[str],
        responses: ResponseCache,
        snapshot_id: Callable[[], str | None],
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.metrics = metrics
        self.trusted = trusted_proxies
        self.responses = responses
        self.snapshot_id = snapshot_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("state", {}).get("prepare"):
            await self.app(scope, receive, send)  # lifespan; answers prepared ahead of a swap
            return
        t0 = now()
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"")
        rid = given.decode() if given and _TOKEN.match(given) else f"{_PREFIX}{next(_COUNTER):08x}"
        peer_addr = scope.get("client")
        peer = str(peer_addr[0]) if peer_addr else None
        fwd = headers.get(b"x-forwarded-for")
        client = client_address(peer, fwd.decode("latin-1") if fwd else None, self.trusted)
        scope.setdefault("state", {}).update(request_id=rid, client=client)
        method = scope["method"]
        if method == "HEAD":  # a copy: the server must still see HEAD (and send no body)
            scope = {**scope, "method": "GET"}
        state: dict[str, Any] = {"status": 500, "started": False, "snapshot": None, "route": None}
        key = None
        if (
            method in ("GET", "HEAD")
            and b"content-length" not in headers
            and b"transfer-encoding" not in headers
        ):
            served = self.snapshot_id()
            if served is not None:
                key = self.responses.key(served, scope["path"], scope["query_string"], headers)
        kept: list[bytes] = []
        start: dict[str, Any] = {}

        async def send_(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                hdrs = list(message.get("headers", []))
                for k, v in hdrs:
                    if k == b"x-snapshot-id":
                        state["snapshot"] = v.decode()
                start["headers"] = hdrs
                message = {**message, "headers": [*hdrs, (b"x-request-id", rid.encode())]}
            elif message["type"] == "http.response.body":
                if key is not None:
                    kept.append(message.get("body", b""))
                if method == "HEAD":
                    message = {**message, "body": b""}
            await send(message)

        try:
            hit = self.responses.get(key) if key is not None else None
            if hit is not None:
                state["route"] = hit.route
                await self._send_kept(send_, hit, headers.get(b"if-none-match"))
            else:
                receive_ = await self._limit_body(headers, receive)
                await self.app(scope, receive_, send_)
                if key is not None and "headers" in start:
                    route = getattr(scope.get("route"), "path", "")
                    self.responses.offer(key, route, state["status"], start["headers"], b"".join(kept))
        except BodyTooLarge as exc:
            body = problem(
                413, str(exc), request_id=rid, parameter="body", allowed={"max_bytes": self.max_body}
            )
            await self._problem(send_, body, {})
        except NotReady as exc:  # raised outside a route (e.g. by a dependency's teardown)
            if not state["started"]:
                await self._problem(send_, problem(503, exc.detail, request_id=rid), exc.headers)
        except Exception:
            log.exception("unhandled error", extra={"fields": {"request_id": rid, "path": scope.get("path")}})
            if not state["started"]:
                detail = (
                    f"the server failed to answer this request (request id {rid}); the error is logged "
                    "under that id. It is not caused by the request's parameters: retry later or report the id."
                )
                await self._problem(send_, problem(500, detail, request_id=rid), {})
        finally:
            took = now() - t0
            template = state["route"] or getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(template, method, state["status"], took)
            log_access(
                {
                    "request_id": rid,
                    "method": method,
                    "route": template,
                    "path": scope.get("path"),
                    "status": state["status"],
                    "duration_ms": round(took * 1e3, 3),
                    "snapshot": state["snapshot"],
                    "client": client,
                }
            )

    @staticmethod
    async def _send_kept(send: Send, hit: Kept, if_none_match: bytes | None) -> None:
        if hit.etag is not None and if_none_match is not None and hit.etag in if_none_match:
            keep = (b"etag", b"cache-control", b"x-snapshot-id")
            hdrs = [(k, v) for k, v in hit.headers if k in keep]
            await send({"type": "http.response.start", "status": 304, "headers": hdrs})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": list(hit.headers)})
        await send({"type": "http.response.body", "body": hit.body})

    async def _limit_body(self, headers: dict[bytes, bytes], receive: Receive) -> Receive:
        """``receive`` replaying the whole body once it is known to fit; BodyTooLarge otherwise."""
        length = headers.get(b"content-length")
        chunked = b"transfer-encoding" in headers
        if length is None and not chunked:
            return receive
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            raise BodyTooLarge(
                f"request body of {length.decode('latin-1')[:20]} bytes; at most {self.max_body} are accepted."
            )
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise BodyTooLarge(
                    f"request body over {self.max_body} bytes (stopped reading at {size}); at most "
                    f"{self.max_body} are accepted."
                )
            parts.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(parts)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    @staticmethod
    async def _problem(send: Send, body: dict[str, Any], headers: dict[str, str]) -> None:
        response = problem_response(body, headers)
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
