"""probes layer: real SIP probes (OPTIONS, REGISTER, calls) run by pjsua2 in supervised worker processes.

The main process never imports pjsua2; only the workers do.
"""

from __future__ import annotations

from .pool import ProberPool
from .single_run import run_once

__all__ = ["ProberPool", "run_once"]
