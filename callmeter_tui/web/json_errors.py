"""Errors on JSON routes answer as JSON with CORS, never as our HTML page: a Statuspage consumer in a
browser (another origin) must be able to read why, and a JSON parser must not choke on HTML."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aiohttp import web


def wants_json(path: str) -> bool:
    """A JSON route: the Statuspage API (under a page or at the root) or any ``*.json``."""
    return path.endswith(".json") or "/api/" in path or path.startswith("/api/")


def json_error(status: int, message: str, fixed: Mapping[str, str], **headers: str) -> web.Response:
    body = json.dumps({"error": message, "status": status}).encode()
    return web.Response(
        status=status,
        body=body,
        headers={
            **fixed,
            "Content-Type": "application/json; charset=utf-8",
            "Access-Control-Allow-Origin": "*",
            "Cache-Control": "no-store",
            **headers,
        },
    )
