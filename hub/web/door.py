"""The API's door: an ASGI middleware that decides on a request from its headers alone.

Before the app sees a request, and before a single body byte is read:

- the ``Host`` header must name the hub (127.0.0.1, localhost, ::1 and the ``--host`` it serves;
  any IP address when it listens on all interfaces): a page elsewhere that rebinds its DNS name
  to the hub's address is refused, so it can read neither the live state nor the pages;
- a websocket's ``Origin``, when a browser sends one, must be the page's own host (the hub);
- a request that changes something (any method but GET, HEAD, OPTIONS under ``/api/``) needs the
  control token;
- a body may hold at most ``MAX_BODY`` bytes (1 MiB): a larger ``Content-Length`` is refused
  with 413 unread; a body sent without a length is read up to that bound and no further.

Every refusal is a JSON ``{"detail": "one line"}`` with a 4xx status, like the app's own.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.errors import ClickerError, quoted, single_line
from hub.imports import MAX_IMPORT_BYTES

MAX_BODY = MAX_IMPORT_BYTES
BODY_TIMEOUT = 30.0  # a client that starts a body and stalls is dropped after this
LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARDS = ("0.0.0.0", "::", "")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def token_ok(authorization: str, token: str) -> bool:
    """``Authorization: Bearer TOKEN``, compared in constant time."""
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _hostname(netloc: str) -> str:
    """The host part of "name:port" or "[v6]:port", lower case."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[1 : netloc.find("]")] if "]" in netloc else ""
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostPolicy:
    """Which ``Host`` names the hub answers to."""

    def __init__(self, served: str = "127.0.0.1", extra: Iterable[str] = ()) -> None:
        served = served.strip("[]").lower()
        self.any_ip = served in WILDCARDS
        self.names = {*LOOPBACK, served, *(n.lower() for n in extra)}
        if self.any_ip:  # on the room's network the hub may be reached by its machine's name
            me = socket.gethostname().lower()
            self.names |= {me, f"{me}.local"}

    def allows(self, host_header: str) -> bool:
        name = _hostname(host_header)
        return bool(name) and (name in self.names or (self.any_ip and _is_ip(name)))


def _refusal(status: int, detail: str) -> JSONResponse:
    """A refusal that also closes the connection: a body the client may still be sending is
    dropped with the socket, never read."""
    return JSONResponse({"detail": single_line(detail)}, status_code=status, headers={"Connection": "close"})


class Door:
    """The middleware (``app = Door(app, token, HostPolicy(...))``)."""

    def __init__(self, app: ASGIApp, token: str, hosts: HostPolicy, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.token = token
        self.hosts = hosts
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if scope["type"] == "websocket":
            origin = headers.get("origin")
            if not self.hosts.allows(host) or (origin is not None and not _same_origin(origin, host)):
                await send({"type": "websocket.close", "code": 1008, "reason": "wrong Host or Origin"})
                return
            await self.app(scope, receive, send)
            return
        refusal = self._decide(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            body = await asyncio.wait_for(self._read_body(receive), BODY_TIMEOUT)
        except _TooLarge:
            await _refusal(413, f"the body is larger than {self.max_body:,} bytes")(scope, receive, send)
            return
        except TimeoutError:
            await _refusal(408, "the body did not arrive in time")(scope, receive, send)
            return
        except _Disconnected:
            return
        await self.app(scope, _replay(body, receive), send)

    def _decide(self, scope: Scope, headers: Headers) -> JSONResponse | None:
        host = headers.get("host", "")
        if not self.hosts.allows(host):
            shown = quoted(host) if host else "(none)"
            return _refusal(400, f"Host {shown} is not this hub's (open the address clicker printed)")
        if scope["method"] not in SAFE_METHODS and scope["path"].startswith("/api/"):
            if not token_ok(headers.get("authorization", ""), self.token):
                return _refusal(401, "missing or wrong control token")
        length = headers.get("content-length")
        if length is not None:
            if not length.isascii() or not length.isdigit():
                return _refusal(400, "Content-Length is not a number")
            if int(length) > self.max_body:
                return _refusal(413, f"the body is larger than {self.max_body:,} bytes")
        return None

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


class _TooLarge(ClickerError):
    """The body outgrew the cap while it was read (answered 413)."""


class _Disconnected(ClickerError):
    """The client left while its body was read (nothing to answer)."""


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, handed to the app as one message; then the client's own messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _same_origin(origin: str, host: str) -> bool:
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.strip().lower()


def validation_detail(errors: Any) -> str:
    """FastAPI's list of validation errors as one line (the first one, with where it is)."""
    err = errors[0] if errors else {"loc": (), "msg": "bad request"}
    loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
    where = {"path": "in the path", "query": "in the query", "header": "in a header"}
    head = err.get("loc", ("",))[0] if err.get("loc") else ""
    field = ".".join(str(p) for p in err.get("loc", ())[1:]) if head in where else loc
    place = f"{field} ({where[head]})" if head in where and field else (field or "the body")
    return single_line(f"{place}: {err.get('msg', 'invalid')}")
