"""``trace NAME [--execution ID] [--format text|pcap] [-o FILE]``: one execution's SIP messages, from the database.

The text ladder and the pcap writer are the domain's (the dashboard's Trace tab draws the same ladder).
An unknown probe or execution id is one line and exit 2; a run with no SIP messages says why.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..config.model import Config
from ..domain.isotime import iso_millis
from ..domain.ladder import ladder_lines, why_no_messages
from ..domain.pcap import pcap_bytes
from ..domain.siptrace import SipTrace, decode_trace
from ..store.traces import StoredTrace

EXIT_OK, EXIT_EMPTY, EXIT_INPUT = 0, 1, 2


def heading(name: str, stored: StoredTrace) -> str:
    outcome = "OK" if stored.ok else "FAILED"
    code = f" {stored.sip_code} {stored.sip_reason}".rstrip() if stored.sip_code else ""
    return f"{name} · execution {stored.execution_id} · {iso_millis(stored.started_at)} · {outcome}{code}"


def trace_command(
    config: Config, name: str, *, execution_id: int | None = None, fmt: str = "text", output: str | None = None
) -> int:
    if fmt == "pcap" and not output and sys.stdout.isatty():
        print("trace: --format pcap: binary output, give -o FILE (or pipe it)", file=sys.stderr)
        return EXIT_INPUT
    found = _load(config, name, execution_id)
    if isinstance(found, str):
        print(f"trace: {found}", file=sys.stderr)
        return EXIT_INPUT
    stored, trace = found
    if fmt == "pcap":
        if not trace.messages:
            print(f"trace: {name}: {why_no_messages(stored.error)}; no pcap written", file=sys.stderr)
            return EXIT_EMPTY
        if not _write(output, pcap_bytes(trace)):
            return EXIT_INPUT
        if trace.note:
            print(f"trace: {trace.note}", file=sys.stderr)
        return EXIT_OK
    text = "\n".join([heading(name, stored), *ladder_lines(trace, why_no_messages(stored.error), stored.error)]) + "\n"
    return EXIT_OK if _write(output, text.encode()) else EXIT_INPUT


def _write(output: str | None, data: bytes) -> bool:
    """To ``output`` (one line on stderr when it cannot be written) or stdout."""
    if not output:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return True
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        print(f"trace: -o: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True


def _load(config: Config, name: str, execution_id: int | None) -> tuple[StoredTrace, SipTrace] | str:
    """The stored execution and its decoded trace, or a one-line reason it cannot be shown."""
    from ..store import queries
    from ..store.connect import default_sqlite_url
    from ..store.database import open_database
    from ..store.traces import execution_trace

    db = open_database(config.database_url or default_sqlite_url(), project_name=config.project_name)
    try:
        with db.session() as s:
            probe = queries.probe_by_name(s, name)
            if probe is None:
                return f"no probe named {name!r} in the database"
            stored = execution_trace(s, probe.id, execution_id)
    finally:
        db.close()
    if stored is None:
        if execution_id is None:
            return f"{name}: no executions yet"
        return f"--execution: no execution {execution_id} of probe {name!r}"
    return stored, decode_trace(stored.blob)


__all__ = ["trace_command"]
