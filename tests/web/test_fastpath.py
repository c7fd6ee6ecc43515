"""The connection answers known assets itself (web/fastpath.py, issue 16 #1): the same bytes as the application,
pipelined and keep-alive requests in order, HEAD and conditional requests, the keep-alive timeout, and a client
that does not read is not sent more than aiohttp would buffer. Real server, raw sockets, h11 reading answers."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import h11
import pytest

from callmeter_tui.web import connections
from callmeter_tui.web.server import WebServer

from .conftest import NOW, Seed
from .test_http import simple_page

Head = list[tuple[str, str]]
# The loop_factories hook pytest-asyncio offers instead would apply to every test of the suite.
pytestmark = pytest.mark.filterwarnings('ignore:Overriding the "event_loop_policy" fixture is deprecated')


@pytest.fixture(params=["asyncio", "uvloop"] if sys.platform.startswith("linux") else ["asyncio"])
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    """Each test on asyncio's own loop and on uvloop (which `serve` runs on: its transports write at once)."""
    if request.param == "uvloop":
        import uvloop

        return uvloop.EventLoopPolicy()
    return asyncio.DefaultEventLoopPolicy()


async def _exchange(port: int, raw: bytes, until_eof: bool = True, timeout: float = 10.0) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        if until_eof:
            return await asyncio.wait_for(reader.read(), timeout)
        return await asyncio.wait_for(reader.read(1 << 20), timeout)
    finally:
        writer.close()


def _request(method: str, path: str, *extra: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: t", *extra]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _answers(stream: bytes, methods: list[str]) -> list[tuple[int, Head, bytes]]:
    """The answers in ``stream`` to requests made with ``methods`` in that order (h11 reads them as a client
    would, one after the other: a HEAD answer has no body)."""
    conn, out = h11.Connection(h11.CLIENT), []
    conn.receive_data(stream)
    for method in methods:
        conn.send(h11.Request(method=method, target="/", headers=[("Host", "t")]))
        conn.send(h11.EndOfMessage())
        event = conn.next_event()
        assert isinstance(event, h11.Response), (method, event, len(out))
        head = [(k.decode(), v.decode()) for k, v in event.headers.raw_items()]
        body = b""
        while not isinstance(nxt := conn.next_event(), h11.EndOfMessage):
            assert isinstance(nxt, h11.Data), nxt
            body += nxt.data
        out.append((event.status_code, head, body))
        if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
            break
        conn.start_next_cycle()
    return out


def _header(head: Head, name: str) -> str | None:
    return next((v for k, v in head if k.lower() == name.lower()), None)


def _without(head: Head, *names: str) -> list[tuple[str, str]]:
    return sorted((k.lower(), v) for k, v in head if k.lower() not in names)


async def test_known_assets_do_not_reach_the_application(seed: Seed, make_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With the application's page route broken, known assets still answer: the connection answers them.
    Anything the fast path does not know (here a percent-encoded path) still goes to the application. An asset
    built on its first request (web/lazy.py) is known from then on, until the page renders again."""
    route = WebServer._page_route
    working = True

    async def breakable(self: WebServer, request: Any) -> Any:
        if working:
            return await route(self, request)
        raise RuntimeError("the application was asked")

    assert connections.FAST_PATH_SUPPORTED, "this aiohttp release lacks what web/connections.py's fast path reads"
    monkeypatch.setattr(WebServer, "_page_route", breakable)
    simple_page(seed)
    srv = await make_server()
    assert (await srv.client.get("/status/status.json", headers={"Accept-Encoding": "gzip"})).status_code == 200
    working = False
    for path in ("/status", "/status/", "/status?from=link", "/status/status.json", "/static/page.css"):
        r = await srv.client.get(path, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, path
    assert (await srv.client.get("/healthz")).status_code == 200
    assert (await srv.client.get("/st%61tus")).status_code == 500
    await srv.server._render("status")  # a new snapshot: status.json built from the old one is not served
    assert (await srv.client.get("/status/status.json")).status_code == 500
    assert (await srv.client.get("/status")).status_code == 200


CASES = [
    ("GET", "/status", "Accept-Encoding: gzip"),
    ("GET", "/status", "Accept-Encoding: identity"),
    ("GET", "/status/", "Accept-Encoding: gzip, deflate, br"),
    ("HEAD", "/status", "Accept-Encoding: gzip"),
    ("GET", "/status/status.json"),
    ("GET", "/status/api/v2/summary.json", "Accept-Encoding: gzip"),
    ("GET", "/static/page.css"),
]


async def test_fast_answers_are_the_applications_bytes(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    """Each answer the connection gives equals the application's (``Connection: close`` sends a request to the
    application), Date and Connection aside; 304s too, for If-None-Match and If-Modified-Since."""
    simple_page(seed)
    srv = await make_server()
    port = srv.server.port
    for method, path, *extra in CASES:
        [(status, head, body)] = _answers(await _exchange(port, _request(method, path, *extra), False), [method])
        [(s_status, s_head, s_body)] = _answers(
            await _exchange(port, _request(method, path, *extra, "Connection: close")), [method]
        )
        assert _header(s_head, "connection") == "close" and _header(head, "connection") is None
        assert (status, body) == (s_status, s_body) and status == 200, (method, path)
        assert _without(head, "date", "connection") == _without(s_head, "date", "connection"), (method, path)
        assert _header(head, "date") is not None
        for condition in (
            f"If-None-Match: {_header(head, 'etag')}",
            f"If-Modified-Since: {_header(head, 'last-modified')}",
        ):
            [(n_status, n_head, n_body)] = _answers(
                await _exchange(port, _request(method, path, *extra, condition), False), [method]
            )
            [(sn_status, sn_head, _)] = _answers(
                await _exchange(port, _request(method, path, *extra, condition, "Connection: close")), [method]
            )
            assert (n_status, n_body, sn_status) == (304, b"", 304), (method, path, condition)
            assert _without(n_head, "date", "connection") == _without(sn_head, "date", "connection")


async def test_pipelined_requests_are_answered_in_order(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    """One write carrying requests for both paths: every answer comes, in request order, and the connection
    closes after the request that asked for it. More requests than aiohttp's parser queues at once too."""
    simple_page(seed)
    srv = await make_server()
    page = await srv.client.get("/status", headers={"Accept-Encoding": "gzip"})
    etag = page.headers["etag"]
    plan = [
        (_request("GET", "/status", "Accept-Encoding: gzip"), "GET", 200),
        (_request("GET", "/healthz"), "GET", 200),
        (_request("HEAD", "/status"), "HEAD", 200),
        (_request("GET", "/nope"), "GET", 404),
        (_request("GET", "/status", "Accept-Encoding: gzip", f"If-None-Match: {etag}"), "GET", 304),
        (_request("POST", "/status", body=b"x=1"), "POST", 405),
        (_request("GET", "/status/status.json"), "GET", 200),
        *[(_request("GET", "/status", "Accept-Encoding: gzip"), "GET", 200)] * 100,
        (_request("GET", "/healthz"), "GET", 200),
        *[(_request("HEAD", "/status/status.json"), "HEAD", 200)] * 40,
        (_request("GET", "/status", "Connection: close"), "GET", 200),
    ]
    stream = await _exchange(srv.server.port, b"".join(raw for raw, _, _ in plan))
    got = _answers(stream, [method for _, method, _ in plan])
    assert [status for status, _, _ in got] == [status for _, _, status in plan]
    assert got[0][2] == page.content or _header(got[0][1], "content-encoding") == "gzip"
    assert got[1][2] == b"ok\n" and got[2][2] == b"" and _header(got[2][1], "etag") == _header(got[-1][1], "etag")
    assert got[4][2] == b"" and _header(got[6][1], "content-type").startswith("application/json")  # type: ignore[union-attr]
    assert _header(got[-1][1], "connection") == "close"


async def test_a_client_that_does_not_read_is_not_sent_everything(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    """400 pipelined GETs of a 46 KB page and no reading: the server holds about one answer beyond the
    transport's high-water mark (aiohttp's flow control), not all the 18 MB the kernel cannot take; then
    everything arrives in order."""
    day = 86400.0
    probes = [seed.probe(f"p{i}", spans=[("HEALTHY", NOW - 90 * day, NOW - 2 * day - i * 3600)]) for i in range(40)]
    seed.page("status", "Big", [(p, f"Component {p}") for p in probes])
    srv = await make_server()
    size = len((await srv.client.get("/status", headers={"Accept-Encoding": "identity"})).content)
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.server.port)
    try:
        writer.write(_request("GET", "/status", "Accept-Encoding: identity") * 399)
        writer.write(_request("GET", "/status", "Accept-Encoding: identity", "Connection: close"))
        await asyncio.sleep(1.0)
        guard = srv.server._site.guard
        held = sum(h.transport.get_write_buffer_size() for h in guard.live if h.transport is not None)
        assert size > 40_000 and held < 1_000_000, f"{held} bytes held for a client that does not read ({size} B each)"
        data = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    got = _answers(data, ["GET"] * 400)
    assert [(status, len(body)) for status, _, body in got] == [(200, size)] * 400


async def test_keep_alive_timeout_counts_from_each_fast_answer(seed: Seed, make_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A connection that keeps asking stays open; one that stops is closed a keep-alive timeout after its last
    answer (the slowloris rule of web/connections.py holds for answers the connection gave itself)."""
    monkeypatch.setattr(connections, "HANDLER_KWARGS", {**connections.HANDLER_KWARGS, "keepalive_timeout": 1.0})
    simple_page(seed)
    srv = await make_server()
    reader, writer = await asyncio.open_connection("127.0.0.1", srv.server.port)
    try:
        for _ in range(6):  # 2.4 s in all, longer than the timeout
            writer.write(_request("HEAD", "/status"))
            answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
            await asyncio.sleep(0.4)
        last = time.monotonic()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert 0.5 <= time.monotonic() - last <= 2.5
    finally:
        writer.close()


async def test_http_1_0_goes_to_the_application(seed: Seed, make_server) -> None:  # type: ignore[no-untyped-def]
    simple_page(seed)
    srv = await make_server()
    raw = await _exchange(srv.server.port, b"GET /status HTTP/1.0\r\nHost: t\r\n\r\n")
    assert raw.startswith(b"HTTP/1.0 200 OK\r\n") and b"Acme Voice" in raw


async def test_a_connections_first_request_is_answered_too(seed: Seed, make_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A browser's request often arrives with the connection, before aiohttp's request loop has started (on
    uvloop): the connection answers it all the same, and the next one on the same connection too."""
    import socket

    async def broken(self: WebServer, request: Any) -> Any:
        raise RuntimeError("the application was asked")

    monkeypatch.setattr(WebServer, "_page_route", broken)
    simple_page(seed)
    srv = await make_server()
    loop = asyncio.get_running_loop()
    for _ in range(10):
        # Connected and sent before the server's loop runs again: the request is there when it accepts.
        with socket.create_connection(("127.0.0.1", srv.server.port)) as sock:
            sock.sendall(_request("GET", "/status") + _request("HEAD", "/status"))
            sock.setblocking(False)
            data = b""
            while data.count(b"HTTP/1.1 ") < 2 or not data.endswith(b"\r\n\r\n"):
                data += await asyncio.wait_for(loop.sock_recv(sock, 1 << 16), 10)
        assert [status for status, _, _ in _answers(data, ["GET", "HEAD"])] == [200, 200]
