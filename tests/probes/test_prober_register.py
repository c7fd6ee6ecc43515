"""REGISTER probes against a real kamailio registrar with digest authentication."""

from __future__ import annotations

import pytest

from callmeter_tui.domain.probe import ProbeKind, ProbeSpec
from callmeter_tui.probes import ProberPool
from tests.fixtures.sip import HOST as LOOPBACK  # the prober binds where the test peers listen

pytestmark = pytest.mark.peers


def register(target: str, user: str | None, **kw: object) -> ProbeSpec:
    kw.setdefault("timeout_s", 5.0)
    return ProbeSpec(name="reg", kind=ProbeKind.SIP_REGISTER, target=target, username=user, **kw)  # type: ignore[arg-type]


async def test_register_ok_wrong_password_unknown_user(registrar) -> None:
    pool = ProberPool(1, sip_bind=LOOPBACK)
    await pool.start()
    try:
        ok, tcp_ok, wrong, unknown, missing = await __import__("asyncio").gather(
            pool.run(register(registrar.uri(), "alice"), registrar.users["alice"]),
            pool.run(register(registrar.uri(transport="tcp"), "bob"), registrar.users["bob"]),
            pool.run(register(registrar.uri(), "alice"), "not-the-password"),
            pool.run(register(registrar.uri(), "mallory"), "whatever"),
            pool.run(register(registrar.uri(), None), "x"),
        )
    finally:
        await pool.stop()
    assert ok.ok, ok.error
    assert ok.sip_code == 200
    assert ok.metrics["response_time_ms"] > 0  # includes the 401 challenge round
    assert ok.details["unregistered"] is True
    assert tcp_ok.ok, tcp_ok.error
    assert not wrong.ok and wrong.sip_code == 401, wrong.error
    assert wrong.error.startswith("authentication rejected")
    assert not unknown.ok and unknown.sip_code == 403, unknown.error
    assert unknown.error.startswith("authentication rejected")
    assert not missing.ok and missing.error.startswith("username:")
