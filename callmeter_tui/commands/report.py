"""``callmeter-tui report``: a page's monthly SLA report as text, CSV, JSON, HTML or PDF.

The dashboard writes the same files through ``write_report`` (handed to the app by the composition
root), so both paths give identical bytes. PDF is the HTML printed by Debian's Chromium in headless
mode (why Chromium and not a PDF library: README, "SLA reports").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..config.model import Config
from ..domain.sla import Report, build_report
from ..store.database import Database
from ..store.reports import ReportInputError, component_inputs, page_header, report_window
from ..web.report import render_report

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
PDF_TIMEOUT_S = 60.0


class ReportError(RuntimeError):
    """The report could not be written (no Chromium for PDF, unwritable file): one line."""


def load_report(db: Database, slug: str, month: str, now: float, components: tuple[str, ...] = ()) -> Report:
    """Build the report from the store; ReportInputError names the bad --page/--component/--month."""
    with db.session() as s:
        page = page_header(s, slug)
        window = report_window(page, month, now)
        inputs = component_inputs(s, page, window, components)
    return build_report(page.slug, page.name, window, inputs, now)


def chromium() -> str:
    named = os.environ.get("CALLMETER_CHROMIUM")
    found = shutil.which(named) if named else next(filter(None, map(shutil.which, CHROMIUM_CANDIDATES)), None)
    if not found:
        where = f"CALLMETER_CHROMIUM={named!r} is not an executable" if named else "install Debian's chromium"
        raise ReportError(f"pdf: Chromium not found ({where}); the other formats need no browser")
    return found


def html_to_pdf(html: bytes) -> bytes:
    """Print ``html`` to PDF with headless Chromium (A4 from the report's print CSS, no header/footer)."""
    exe = chromium()
    with tempfile.TemporaryDirectory(prefix="callmeter-report-") as tmp:
        src, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        src.write_bytes(html)
        argv = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            f"--user-data-dir={tmp}/profile",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            src.as_uri(),
        ]
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=PDF_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"pdf: Chromium did not finish within {PDF_TIMEOUT_S:.0f} s") from None
        except OSError as exc:
            raise ReportError(f"pdf: cannot run {exe!r}: {exc.strerror or exc}") from None
        if not out.exists() or out.stat().st_size == 0:
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise ReportError(f"pdf: Chromium wrote no PDF (exit {proc.returncode}: {tail[0]})")
        return out.read_bytes()


def report_bytes(report: Report, fmt: str) -> bytes:
    return html_to_pdf(render_report(report, "html")) if fmt == "pdf" else render_report(report, fmt)


def default_name(report: Report, fmt: str) -> str:
    ext = {"text": "txt"}.get(fmt, fmt)
    return f"sla-{report.slug}-{report.window.month}.{ext}"


def write_report(db: Database, slug: str, month: str, fmt: str, output: str | Path, now: float | None = None) -> Path:
    """Write the report to ``output`` (a file, or a folder to put the default name in); its path."""
    report = load_report(db, slug, month, time.time() if now is None else now)
    data = report_bytes(report, fmt)
    path = Path(output).expanduser()
    if path.is_dir():
        path = path / default_name(report, fmt)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ReportError(f"-o: cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return path


def report_command(
    config: Config, slug: str, month: str, fmt: str, output: str | None, components: tuple[str, ...] = ()
) -> int:
    """Print (or write with -o) the report; exit 0, 2 for bad input (one line), 1 when it cannot be written."""
    from ..store.connect import default_sqlite_url
    from ..store.database import open_database
    from ..store.sync import sync_config

    db = open_database(config.database_url or default_sqlite_url(), project_name=config.project_name)
    try:
        with db.session() as s:
            sync_config(s, config)
        report = load_report(db, slug, month, time.time(), components)
        data = report_bytes(report, fmt)
        if output is None or output == "-":
            if fmt == "pdf" and sys.stdout.isatty():
                raise ReportError("pdf: will not write a PDF to a terminal; use -o FILE")
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            Path(output).expanduser().write_bytes(data)
    except ReportInputError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    except ReportError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"report: -o: cannot write {output!r}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    return 0


__all__ = ["ReportError", "load_report", "report_command", "write_report"]
