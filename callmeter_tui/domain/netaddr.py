"""Which IP addresses a webhook may reach: public unicast only (no loopback, private, link-local, ...).

Pure rule, written once: the delivery guard (webhooks.guard) applies it to every resolved address, and
``check`` (config) warns early about IP literals it would refuse.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ULA = ipaddress.ip_network("fc00::/7")


def forbidden_reason(address: str | IPAddress) -> str | None:
    """Why ``address`` is refused as a webhook target, or None when it is a public unicast address."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = forbidden_reason(embedded)
            return f"{ip} embeds {inner.replace(' is ', ', ', 1)}" if inner else None
        if ip.scope_id:
            return f"{ip} is a scoped (link-local) address"
    checks = (
        (ip.is_loopback, "a loopback address"),
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_link_local, "a link-local address (incl. cloud metadata 169.254.169.254)"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "a carrier-grade NAT address (100.64.0.0/10)"),
        (isinstance(ip, ipaddress.IPv6Address) and ip in _ULA, "an IPv6 unique local address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a globally routable address"),
    )
    for hit, what in checks:
        if hit:
            return f"{ip} is {what}"
    return None


def literal_ip(host: str) -> IPAddress | None:
    """The IP when ``host`` is an IP literal (brackets allowed), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def literal_target_reason(host: str) -> str | None:
    """Why a webhook host written literally (an IP, localhost) is refused; None for names (checked when sent)."""
    lowered = host.lower().rstrip(".")
    if lowered == "localhost" or lowered.endswith(".localhost"):
        return f"{host} is a loopback name"
    ip = literal_ip(host)
    return forbidden_reason(ip) if ip is not None else None
