"""Two vectorised stand-ins for visqol-python's slowest pure-Python loops (same arithmetic, fewer calls).

Without numba, visqol-python 3.8 spends most of a speech-mode score in (1) its gammatone spectrogram,
which calls ``scipy.signal.lfilter`` once per frame x band x stage, and (2) NSIM's 3x3 "valid
convolution with edge replication", which calls ``np.pad`` and ``correlate2d`` five times per patch
comparison (thousands of comparisons per call). Here (1) filters all frames of a band at once along
axis 1 (every frame starts from zero filter state, as in the original, so each row is computed by the
very same recursion), and (2) pads by slicing and sums the nine shifted products. Measured: the same
MOS-LQO to 1e-9 as the library's own command line (tests/probes/test_listening.py), several times less
CPU. Applied only to the visqol-python versions checked here; any other version runs unpatched.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.signal import lfilter

CHECKED_VERSIONS = ("3.8.",)


def _build_frames(
    self: Any, sig: np.ndarray, window: Any, filter_coeffs: np.ndarray, hop_size: int, num_cols: int, num_bands: int
) -> np.ndarray:
    """GammatoneSpectrogramBuilder._build_scipy, all frames of a band in one lfilter call per stage."""
    idx = np.arange(num_cols)[:, None] * hop_size + np.arange(window.size)[None, :]
    frames = sig[idx] * window.hann_window[None, :]
    a0, a11, a12, a13, a14, a2, b0, b1, b2, gain = (filter_coeffs[i] for i in range(10))
    stages = (
        np.column_stack([a0 / gain, a11 / gain, a2 / gain]),
        np.column_stack([a0, a12, a2]),
        np.column_stack([a0, a13, a2]),
        np.column_stack([a0, a14, a2]),
    )
    denom = np.column_stack([b0, b1, b2])
    out = np.zeros((num_bands, num_cols))
    for chan in range(num_bands):
        y = frames
        for sb in stages:
            y = lfilter(sb[chan], denom[chan], y, axis=1)
        out[chan] = np.sqrt(np.mean(y**2, axis=1))
    return out


def _conv3_edge(kernel: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """nsim._valid_2d_conv_with_boundary for its 3x3 kernel: edge-replicated, 'valid' correlation."""
    if kernel.shape != (3, 3):
        from scipy.signal import correlate2d

        return np.asarray(correlate2d(np.pad(matrix, 1, mode="edge"), kernel, mode="valid"))
    h, w = matrix.shape
    p = np.empty((h + 2, w + 2))
    p[1:-1, 1:-1] = matrix
    p[0, 1:-1], p[-1, 1:-1] = matrix[0], matrix[-1]
    p[:, 0], p[:, -1] = p[:, 1], p[:, -2]
    out = np.zeros((h, w))
    for i in range(3):
        for j in range(3):
            out += kernel[i, j] * p[i : i + h, j : j + w]
    return out


def apply() -> bool:
    """Patch visqol-python in this process when its version is one checked here; True when patched."""
    from importlib.metadata import version

    import visqol.gammatone
    import visqol.nsim

    if not version("visqol-python").startswith(CHECKED_VERSIONS):
        return False
    visqol.gammatone.GammatoneSpectrogramBuilder._build_scipy = _build_frames  # type: ignore[method-assign]
    visqol.nsim._valid_2d_conv_with_boundary = _conv3_edge
    return True
