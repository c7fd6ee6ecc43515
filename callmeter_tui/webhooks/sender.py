"""One HTTPS POST of a frozen body: verified TLS, no redirects, SSRF-guarded connect, one overall timeout.

aiohttp's client, one keep-alive pool per destination (pools.py); the address that is actually connected to
is checked and pinned by its resolver (guard.py). Redirects are never followed, nothing comes from the
environment (proxies), and at most 64 KiB of an answer is read.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from .. import __version__
from ..config import SettingError
from ..domain.shortage import out_of_resources
from .guard import BlockedTarget, GuardedResolver, Resolver
from .pools import DestinationPools

USER_AGENT = f"callmeter-tui/{__version__}"
MAX_RESPONSE_BYTES = 64 * 1024


def signature(secret: str, timestamp_ms: int, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, "{timestamp}.{raw body}")>`` as in the contract."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, timestamp_ms: int, body: bytes, delivery_key: str) -> list[tuple[str, str]]:
    """Headers of one attempt: a fresh timestamp and signature each time, the same delivery key on retries."""
    return [
        ("Content-Type", "application/json"),
        ("User-Agent", USER_AGENT),
        ("X-CallMeter-Delivery", delivery_key),
        ("X-CallMeter-Timestamp", str(timestamp_ms)),
        ("X-CallMeter-Signature", signature(secret, timestamp_ms, body)),
    ]


def ssl_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """System CAs plus the optional extra bundle (PEM); hostname checking on."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if ca_bundle:
        try:
            ctx.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise SettingError(
                f"webhooks.ca_bundle: cannot load {ca_bundle!r}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
    return ctx


@dataclass(frozen=True)
class SendResult:
    status: int | None  # HTTP status, None when no response
    error: str | None  # one-line reason when no 2xx
    retry_after: str | None  # raw Retry-After header (429/503)
    duration_ms: float
    local: bool = False  # never left the process (missing secret or routing key): not the endpoint's failure

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Sender:
    """Keep-alive connections for all webhook attempts of one dispatcher: one small pool per destination."""

    def __init__(
        self,
        *,
        ca_bundle: str | None = None,
        allow_private: bool = False,
        per_destination: int = 2,
        max_destinations: int = 256,
        resolver: Resolver | None = None,
    ) -> None:
        self.guard = GuardedResolver(allow_private=allow_private, resolver=resolver)
        self.pools = DestinationPools(
            self.guard, ssl_context(ca_bundle), per_destination=per_destination, max_destinations=max_destinations
        )
        self._urls: dict[str, URL] = {}

    async def post(
        self,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes,
        timeout_s: float,
        destination: str | None = None,
    ) -> SendResult:
        """POST once. ``destination`` names the keep-alive pool (the dispatcher passes the webhook); default: the
        URL's origin. At most ``per_destination`` requests of one destination should be in flight at a time."""
        started = time.perf_counter()
        key = destination or _origin(url)
        target = self._url(url)
        try:
            self.guard.check_literal(target.raw_host or "")
            async with asyncio.timeout(timeout_s):  # one overall deadline, without a task per request (wait_for)
                status, retry_after = await self._post(key, target, headers, body)
        except TimeoutError:
            return SendResult(None, f"timed out after {timeout_s:g} s", None, _ms(started))
        except BlockedTarget as exc:
            return SendResult(None, str(exc), None, _ms(started))
        except (aiohttp.ClientConnectorError, OSError) as exc:
            if out_of_resources(exc):  # our process ran out (descriptors...): not the endpoint's failure
                return SendResult(None, f"no resources to connect: {_reason(exc)}", None, _ms(started), local=True)
            return SendResult(None, f"connection failed: {_reason(exc)}", None, _ms(started))
        except (aiohttp.ClientResponseError, aiohttp.ClientPayloadError) as exc:
            return SendResult(None, f"HTTP protocol error: {_reason(exc)}", None, _ms(started))
        except (aiohttp.ClientError, ssl.SSLError) as exc:
            return SendResult(None, f"network error: {_reason(exc)}", None, _ms(started))
        duration = _ms(started)
        if 200 <= status < 300:
            return SendResult(status, None, None, duration)
        if 300 <= status < 400:
            return SendResult(status, f"HTTP {status}: redirects are not followed", None, duration)
        return SendResult(status, f"HTTP {status}", retry_after if status in (429, 503) else None, duration)

    def _url(self, url: str) -> URL:
        """The URL exactly as written (already validated ASCII: never re-quoted or normalised), parsed once."""
        target = self._urls.get(url)
        if target is None:
            if not url.isascii():
                raise ValueError(f"non-ASCII characters in the webhook URL of host {_origin(url)!r}")
            if len(self._urls) >= 1024:
                self._urls.clear()
            target = self._urls[url] = URL(url, encoded=True)
        return target

    async def _post(self, key: str, url: URL, headers: list[tuple[str, str]], body: bytes) -> tuple[int, str | None]:
        async with (
            self.pools.lease(key) as session,
            session.post(url, data=body, headers=headers, allow_redirects=False) as resp,
        ):
            seen = 0
            while chunk := await resp.content.readany():  # read (and drop) a bounded amount of the answer
                seen += len(chunk)
                if seen > MAX_RESPONSE_BYTES:
                    break
            retry_after = resp.headers.get("Retry-After")
            return resp.status, retry_after.strip() if retry_after is not None else None

    async def aclose(self) -> None:
        await self.pools.aclose()


def _origin(url: str) -> str:
    """scheme://host:port of ``url`` (the default pool key); the URL itself when it cannot be split."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def _reason(exc: BaseException) -> str:
    """The most specific one-line text in an exception chain (e.g. the TLS verification failure)."""
    texts: list[str] = []
    specific: str | None = None
    cur: BaseException | None = exc
    while cur is not None and len(texts) < 6:
        text = str(cur).strip() or type(cur).__name__
        texts.append(text)
        if specific is None and isinstance(cur, OSError) and cur.strerror:  # e.g. "Connection refused"
            specific = f"{cur.strerror} ({text})" if cur.strerror not in text else text
        cur = cur.__cause__ or cur.__context__
    best = next((t for t in texts if "certificate" in t.lower()), specific or texts[0])
    return best.splitlines()[0][:300]
