"""What every answer under /api/v1/ shares: JSON errors, CORS, entity tags, the rate limit.

`ApiMiddleware` is pure ASGI and leaves every other path (the Streamlit app) untouched.
"""

import functools
import hashlib
import ipaddress
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dhu_core import changes, clients, db
from dhu_core.api import readiness
from dhu_core.config import Settings, get_settings, public_url, server_trusted, trusted_proxies
from dhu_core.errors import log_failure
from dhu_core.params import InvalidParameter

LOG = logging.getLogger("dhu")
PREFIX = "/api/v1/"
#: Part of every entity tag: a new release may shape the same data differently.
API_VERSION = "1.0"
READ_METHODS = ("GET", "HEAD")
ALLOWED_METHODS = "GET, HEAD, OPTIONS"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Retry-After",
    "Vary": "Origin",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": ALLOWED_METHODS,
    "Access-Control-Allow-Headers": "Accept, If-None-Match",
    "Access-Control-Max-Age": "86400",
}
CACHE_CONTROL = "public, max-age=60"
#: What the API shows: practices, the uptake by country, digests with their authors' names.
SCOPES = (changes.CATALOGUE, changes.TWINNING, changes.KNOWLEDGE, changes.ACCOUNTS)


class NotFound(LookupError):
    """Nothing public at this address."""


def error_response(
    status: int, message: str, *, field: str | None = None, headers: dict | None = None
) -> JSONResponse:
    """The JSON answer of an error: its status, a message and the parameter at fault."""
    body = {"error": {"status": status, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=headers)


def endpoint(function: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Turn a refused parameter into 400 and NotFound into 404; anything else into a 500 with
    an error id, its traceback in the server log only. Stays a plain function, which Starlette
    runs in its threadpool."""

    @functools.wraps(function)
    def answer(request: Request) -> Response:
        try:
            return function(request)
        except InvalidParameter as error:
            return error_response(400, str(error), field=error.field)
        except NotFound as error:
            return error_response(404, str(error))
        except Exception as error:
            return _failure(error)

    return answer


def _failure(error: BaseException) -> JSONResponse:
    reference = log_failure(error)
    return error_response(500, f"Something went wrong on our side (error {reference}).")


def public_base(request: Request) -> str:
    """The platform's address: DHU_PUBLIC_URL, else the one this request used."""
    return public_url(get_settings(), str(request.base_url))


def entity_tag(*, version: int, day: str, base: str, path: str, query: str) -> str:
    """The ETag of an answer, known before it is made: the data version and the day (practices
    become "may be outdated" from one day to the next), with the address asked (its `base`,
    scheme and host, is in the links of the answer)."""
    normalised = urlencode(sorted(parse_qsl(query, keep_blank_values=True)))
    text = "\n".join((API_VERSION, str(version), day, base, path, normalised))
    # Weak: the same tag stands for the answer with and without gzip (Streamlit compresses).
    return 'W/"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def matches(if_none_match: str, tag: str, *, exists: bool = True) -> bool:
    """True when an If-None-Match header names `tag` (weakly compared, as RFC 9110 says), or
    is "*" for an answer that `exists`."""
    given = [part.strip().removeprefix("W/") for part in if_none_match.split(",")]
    return (exists and "*" in given) or tag.removeprefix("W/") in given


def rated_client(address: str) -> str:
    """Whose bucket a request from `address` takes from: an IPv6 address's /64 network, which a
    subscriber is given whole (so a new address in it would be a new client), an IPv4-mapped
    address as the IPv4 address it is."""
    ip = clients.ip_or_none(address)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return address if ip is None else str(ip)


class TokenBuckets:
    """Per client: up to `burst` requests at once, refilled at `per_minute`.

    A bucket idle long enough to be full again is the same as a new one, so it is forgotten:
    the buckets kept are those of the clients of the last few seconds. Used from the event
    loop only, so no lock is needed.
    """

    def __init__(self, *, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60
        self.burst = burst
        #: client -> (tokens left, when counted); least recently used first.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, client: str, *, now: float) -> float:
        """Take one request from `client`'s bucket: 0 when allowed, else the seconds to wait."""
        self._forget_idle(now)
        tokens, counted = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - counted) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
        return wait

    def _forget_idle(self, now: float) -> None:
        refilled_after = self.burst / self.rate
        while self._buckets:
            client, (_, counted) = next(iter(self._buckets.items()))
            if now - counted < refilled_after:
                return
            del self._buckets[client]


class Answers:
    """Answers kept by entity tag and accepted encodings (Streamlit gzips them), the least
    recently used forgotten first: a tag names the data version, so a kept answer is never
    stale, and asking again costs no work (the uptake per country takes a second at 100,000
    practices)."""

    def __init__(self, *, entries: int = 64, largest: int = 512 * 1024) -> None:
        self.entries = entries
        self.largest = largest
        self._kept: OrderedDict[tuple[str, str], tuple[list, bytes]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> tuple[list, bytes] | None:
        """The headers and body kept for `key`, or None."""
        kept = self._kept.get(key)
        if kept is not None:
            self._kept.move_to_end(key)
        return kept

    def put(self, key: tuple[str, str], headers: list, body: bytes) -> None:
        """Keep an answer; forget the least recently used beyond `entries`."""
        self._kept[key] = (headers, body)
        while len(self._kept) > self.entries:
            self._kept.popitem(last=False)


class ApiMiddleware:
    """Around every request under /api/v1/: the rate limit, CORS, 405 for other methods than
    GET and HEAD, 503 while the database is not ready, and entity tags (a conditional request
    whose tag still holds gets 304 before any work is done, another GET the answer kept)."""

    def __init__(self, app: ASGIApp, settings: Settings | None = None) -> None:
        self.app = app
        settings = settings or get_settings()
        self.buckets = TokenBuckets(
            per_minute=settings.dhu_api_rate_limit, burst=settings.dhu_api_rate_burst
        )
        self.settings = settings
        self.answers = Answers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        send = _with_headers(send, CORS_HEADERS)
        try:
            response = await self._early_answer(Request(scope))
        except Exception as error:
            response = _failure(error)
        if isinstance(response, str):
            await self._serve(scope, receive, send, tag=response)
        else:
            await response(scope, receive, send)

    async def _early_answer(self, request: Request) -> Response | str:
        """The answer given without the endpoint, or else the request's entity tag."""
        wait = self.buckets.take(rated_client(self._client(request.scope)), now=time.monotonic())
        if wait:
            return error_response(
                429,
                "Too many requests from this address; please slow down.",
                headers={"Retry-After": str(math.ceil(wait))},
            )
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=PREFLIGHT_HEADERS)
        if request.method not in READ_METHODS:
            return error_response(
                405,
                f"The API is read-only: {request.method} is not allowed here.",
                headers={"Allow": ALLOWED_METHODS},
            )
        if not await run_in_threadpool(readiness.ensure):
            return error_response(
                503, "The database is not ready: its operator has to run `dhu init-db`."
            )
        tag = entity_tag(
            version=await run_in_threadpool(functools.partial(db.data_version, scopes=SCOPES)),
            day=datetime.now(UTC).date().isoformat(),
            base=str(request.base_url),
            path=request.url.path,
            query=request.url.query,
        )
        # Whether the address has an answer (not a 404 or a 400) is not known before the work,
        # so "*" does not hold here: only the tag of an answer given before does.
        if matches(request.headers.get("if-none-match", ""), tag, exists=False):
            return Response(status_code=304, headers=_cache_headers(tag))
        return tag

    async def _serve(self, scope: Scope, receive: Receive, send: Send, *, tag: str) -> None:
        """Answer from the endpoint, or from the answers kept for this tag (a GET that names
        the same data version, day and address gets the same answer)."""
        key = (tag, Headers(scope=scope).get("accept-encoding", ""))
        kept = self.answers.get(key) if scope["method"] == "GET" else None
        if kept is not None:
            headers, body = kept
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        started = False
        headers: list = []
        # None once the answer is an error, a HEAD, or too large to keep.
        body: bytearray | None = bytearray() if scope["method"] == "GET" else None
        # The status of an error answered in another form than ours, which is not sent on.
        foreign: int | None = None

        async def tagged(message: Message) -> None:
            nonlocal started, headers, body, foreign
            if message["type"] == "http.response.start" and _foreign_error(message):
                # Streamlit's own middleware, after this one, answers an address with '..' in
                # plain text; an API client reads every error in the same JSON shape.
                foreign = message["status"]
                return
            if foreign is not None:
                return
            if message["type"] == "http.response.start":
                started = True
                if message["status"] == 200 and not _has_own_tag(message):
                    message = _add_headers(message, _cache_headers(tag))
                    headers = message["headers"]
                else:
                    # An error, or an answer whose tag the endpoint knows better (an open-data
                    # file may be the last one written while the next is being made).
                    body = None
            elif message["type"] == "http.response.body" and body is not None:
                body += message.get("body", b"")
                if len(body) > self.answers.largest:
                    body = None
                elif not message.get("more_body", False):
                    self.answers.put(key, headers, bytes(body))
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        except Exception as error:
            if started:
                raise
            await _failure(error)(scope, receive, send)
            return
        if foreign is not None:
            message = f"{scope['path']} is not an address of this API; see {PREFIX}openapi.json."
            await error_response(foreign, message)(scope, receive, send)

    def _client(self, scope: Scope) -> str:
        host = scope["client"][0] if scope.get("client") else None
        headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
        connection = clients.Connection(
            server_address="127.0.0.1" if host == "::1" else host, headers=headers
        )
        # Read at each request: a malformed DHU_TRUSTED_PROXIES fails the API's requests (with
        # an error id), not the start of the whole app, whose pages explain the setting.
        return clients.client_address(
            connection,
            proxies=trusted_proxies(self.settings),
            server_trusted=server_trusted(self.settings),
        )


def _foreign_error(message: Message) -> bool:
    """True for the start of an error answer that is not JSON."""
    content_type = dict(message.get("headers", [])).get(b"content-type", b"")
    return message["status"] >= 400 and not content_type.startswith(b"application/json")


def _has_own_tag(message: Message) -> bool:
    return any(name.lower() == b"etag" for name, _ in message.get("headers", []))


def _cache_headers(tag: str) -> dict[str, str]:
    return {"ETag": tag, "Cache-Control": CACHE_CONTROL}


def _add_headers(message: Message, headers: dict[str, str]) -> Message:
    """The response start `message` with `headers` set; Vary adds to the one there (gzip's)."""
    added = {k.lower().encode("latin-1"): v.encode("latin-1") for k, v in headers.items()}
    kept = []
    for name, value in message.get("headers", []):
        if name.lower() == b"vary" and b"vary" in added:
            added[b"vary"] = value + b", " + added[b"vary"]
        elif name.lower() not in added:
            kept.append((name, value))
    return {**message, "headers": kept + list(added.items())}


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = _add_headers(message, headers)
        await send(message)

    return sending
