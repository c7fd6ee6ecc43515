"""ViSQOL runs in a child process of the prober worker, not in the worker itself.

Scoring is seconds of CPU, much of it Python code holding the GIL. In the worker, the conference bridge's
clock thread needs the GIL 50 times a second for each call's recording tap: a score running there delays
the other calls' frames (their jitter and jitter-buffer delay grow; measured: jitter 9 ms on a clean line,
a clean call DEGRADED). A child process has its own GIL. It is started on first use ("spawn": nothing of
pjsua is inherited), asks the kernel to end it when the worker ends (PR_SET_PDEATHSIG), runs at nice 19 under SCHED_IDLE (on
a small machine a score must not take CPU from the calls still being measured, nor from OPTIONS timing: under
nice 19 alone, back-to-back scoring multiplied OPTIONS lateness p50 4-9x in bench_listening.py --with-engine), and
scores one pair at a time; the mapper in use is reported with each score.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np

PR_SET_PDEATHSIG = 1
SCORE_TIMEOUT_S = 45.0

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def _child_init() -> None:
    """End with the worker; yield the CPU to everything that keeps time (calls, OPTIONS, peers)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    os.nice(19)
    try:  # SCHED_IDLE: runs only on a core nothing else wants (nice 19 still takes a share under load)
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (OSError, AttributeError):
        pass


def _score_here(reference: np.ndarray, degraded: np.ndarray) -> tuple[float, str]:
    from .listening import mapper, visqol_score_here

    return visqol_score_here(reference, degraded), mapper()


def score(reference: np.ndarray, degraded: np.ndarray) -> tuple[float, str]:
    """(MOS-LQO, mapper) computed in the worker's scoring process (started on first use)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"), initializer=_child_init)
        pool = _pool
    try:
        return pool.submit(_score_here, reference, degraded).result(timeout=SCORE_TIMEOUT_S)
    except Exception:
        with _lock:  # a broken or stuck child is replaced on the next call
            if _pool is pool:
                _pool = None
        pool.shutdown(wait=False, cancel_futures=True)
        raise
