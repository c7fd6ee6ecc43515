"""Vectorised stand-ins for visqol-python's slowest pure-Python loops (same arithmetic, fewer calls).

Without numba, visqol-python 3.8 spends most of a speech-mode score in (1) its gammatone spectrogram,
which calls ``scipy.signal.lfilter`` once per frame x band x stage, (2) the patch search, which compares
each reference patch with up to 161 degraded patches one ``measure_patch_similarity`` call at a time (NSIM's
3x3 "valid convolution with edge replication" costs an ``np.pad`` and a ``correlate2d`` five times per
comparison) and walks its dynamic programme in Python, and (3) the reference's voice activity, a Python loop
over every sample. Here:

(1) every frame of a band goes through one ``sosfilt`` call holding the four biquad stages (every frame
    starts from zero filter state, as in the original, so each row is the very same recursion), and each
    spectrogram column is remembered by the content of its frame: a frame seen before (the reference
    speech, which loops through every call, and the patches the fine realignment rebuilds from audio the
    full spectrograms already covered) is not filtered again;
(2) all candidate patches of one reference patch are compared at once, the 3x3 convolution is nine shifted
    products, and the DP step is a running maximum (ties resolved as the original loop does);
(3) the voice activity rounds and chunks the samples with numpy.

Measured: the same MOS-LQO as the library's own command line (tests/probes/test_listening.py); CPU figures
in bench/bench_listening.py. Applied only to the visqol-python versions checked here; any other version runs
unpatched.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from scipy.signal import sosfilt

CHECKED_VERSIONS = ("3.8.",)
CACHED_COLUMNS = 8000  # spectrogram columns remembered (32 bands: ~3 MB): the reference's loop, twice over

_columns: OrderedDict[bytes, np.ndarray] = OrderedDict()
_columns_lock = threading.Lock()


def _sos(filter_coeffs: np.ndarray) -> np.ndarray:
    """The four biquad stages of each band as a (bands, 4, 6) second-order-section array (B0 = 1)."""
    a0, a11, a12, a13, a14, a2, b0, b1, b2, gain = (filter_coeffs[i] for i in range(10))
    num = np.stack(
        [
            np.column_stack([a0 / gain, a11 / gain, a2 / gain]),
            np.column_stack([a0, a12, a2]),
            np.column_stack([a0, a13, a2]),
            np.column_stack([a0, a14, a2]),
        ],
        axis=1,
    )
    den = np.broadcast_to(np.column_stack([b0, b1, b2])[:, None, :], num.shape)
    return np.concatenate([num / den[:, :, :1], den / den[:, :, :1]], axis=2)


def _frame_keys(raw: np.ndarray, salt: bytes) -> list[bytes]:
    return [hashlib.blake2b(row.tobytes(), digest_size=16, key=salt).digest() for row in raw]


def _build_frames(
    self: Any, sig: np.ndarray, window: Any, filter_coeffs: np.ndarray, hop_size: int, num_cols: int, num_bands: int
) -> np.ndarray:
    """GammatoneSpectrogramBuilder._build_scipy: new frames filtered together, known frames looked up."""
    idx = np.arange(num_cols)[:, None] * hop_size + np.arange(window.size)[None, :]
    raw = np.ascontiguousarray(sig[idx], dtype=np.float64)
    salt = hashlib.blake2b(filter_coeffs.tobytes() + window.hann_window.tobytes(), digest_size=32).digest()
    keys = _frame_keys(raw, salt)
    out = np.zeros((num_bands, num_cols))
    with _columns_lock:
        known = {i: _columns[k] for i, k in enumerate(keys) if k in _columns}
        for i in known:
            _columns.move_to_end(keys[i])
    for i, col in known.items():
        out[:, i] = col
    todo = [i for i in range(num_cols) if i not in known]
    if todo:
        frames = raw[todo] * window.hann_window[None, :]
        sos = _sos(filter_coeffs)
        for chan in range(num_bands):
            y = sosfilt(sos[chan], frames, axis=1)
            out[chan, todo] = np.sqrt(np.mean(y**2, axis=1))
        with _columns_lock:
            for i in todo:
                _columns[keys[i]] = out[:, i].copy()
            while len(_columns) > CACHED_COLUMNS:
                _columns.popitem(last=False)
    return out


def _conv3_edge(kernel: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """nsim._valid_2d_conv_with_boundary for its 3x3 kernel over the last two axes (any leading axes):
    edge-replicated, 'valid' correlation."""
    if kernel.shape != (3, 3):
        from scipy.signal import correlate2d

        return np.asarray(correlate2d(np.pad(matrix, 1, mode="edge"), kernel, mode="valid"))
    h, w = matrix.shape[-2:]
    p = np.empty((*matrix.shape[:-2], h + 2, w + 2))
    p[..., 1:-1, 1:-1] = matrix
    p[..., 0, 1:-1], p[..., -1, 1:-1] = matrix[..., 0, :], matrix[..., -1, :]
    p[..., :, 0], p[..., :, -1] = p[..., :, 1], p[..., :, -2]
    out = np.zeros(matrix.shape)
    for i in range(3):
        for j in range(3):
            out += kernel[i, j] * p[..., i : i + h, j : j + w]
    return out


def _similarities(ref: np.ndarray, degs: np.ndarray) -> np.ndarray:
    """nsim.measure_patch_similarity(...).similarity of ``ref`` against each patch of ``degs`` (n, bands, frames)."""
    from visqol.nsim import C1, C3
    from visqol.nsim import GAUSSIAN_WINDOW as w

    mu_r, mu_d = _conv3_edge(w, ref), _conv3_edge(w, degs)
    ref_mu_sq, deg_mu_sq, mu_r_mu_d = mu_r * mu_r, mu_d * mu_d, mu_r * mu_d
    sigma_r_sq = _conv3_edge(w, ref * ref) - ref_mu_sq
    sigma_d_sq = _conv3_edge(w, degs * degs) - deg_mu_sq
    sigma_r_d = _conv3_edge(w, ref * degs) - mu_r_mu_d
    intensity = (2.0 * mu_r_mu_d + C1) / (ref_mu_sq + deg_mu_sq + C1)
    var_product = sigma_r_sq * sigma_d_sq
    structure = (sigma_r_d + C3) / np.where(var_product < 0, C3, np.sqrt(var_product) + C3)
    return np.asarray(np.mean(np.mean(intensity * structure, axis=2), axis=1))


def _best_before(prev: np.ndarray, lower: int, offs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each s in ``offs``: the highest prev[lower..s-1] and its index (the highest index among equals, as
    the original backwards scan keeps), or (-inf, -1) when that range is empty."""
    best = np.full(len(offs), -np.inf)
    where = np.full(len(offs), -1, dtype=np.int64)
    stop = int(offs[-1]) if len(offs) else lower
    if stop > lower:
        seg = prev[lower:stop]
        running = np.maximum.accumulate(seg)
        index = np.maximum.accumulate(np.where(seg == running, np.arange(lower, stop), -1))
        ok = offs - 1 >= lower
        best[ok], where[ok] = running[offs[ok] - 1 - lower], index[offs[ok] - 1 - lower]
    return best, where


def _find_patches(
    ref_patches: list[np.ndarray],
    ref_patch_indices: list[int],
    spectrogram_data: np.ndarray,
    frame_duration: float,
    num_patches: int,
    num_bands: int,
    num_frames_per_patch: int,
    num_frames_in_deg: int,
    patch_duration: float,
    search_window: int,
) -> list[Any]:
    """patch_selector._find_most_optimal_deg_patches_python with each patch's candidates compared at once."""
    from numpy.lib.stride_tricks import sliding_window_view
    from visqol.patch_selector import build_degraded_patch, measure_patch_similarity

    padded = np.concatenate([spectrogram_data, np.zeros((num_bands, num_frames_per_patch))], axis=1)
    deg_patches = sliding_window_view(padded, num_frames_per_patch, axis=1).transpose(1, 0, 2)
    dp = np.zeros((len(ref_patch_indices), num_frames_in_deg))
    back = np.full((len(ref_patch_indices), num_frames_in_deg), -1, dtype=np.int64)
    for p in range(num_patches):
        low = max(0, ref_patch_indices[p] - search_window)
        high = min(num_frames_in_deg - 1, ref_patch_indices[p] + search_window)
        if high < low:
            continue
        offs = np.arange(low, high + 1)
        sims = _similarities(ref_patches[p], deg_patches[low : high + 1])
        came = np.full(len(offs), -1, dtype=np.int64)
        if p > 0:
            best, came = _best_before(dp[p - 1], max(0, ref_patch_indices[p - 1] - search_window), offs)
            sims = sims + best
            stay = dp[p - 1, offs] > sims
            sims[stay], came[stay] = dp[p - 1, offs][stay], offs[stay]
        dp[p, offs], back[p, offs] = sims, came
    last = num_patches - 1
    lower = max(0, ref_patch_indices[last] - search_window)
    upper = min(num_frames_in_deg - 1, ref_patch_indices[last] + search_window)
    offset = lower
    if upper >= lower:
        row = dp[last, lower : upper + 1]
        offset = lower + int(np.argmax(row)) if np.max(row) > -np.inf else lower
    results: list[Any] = [None] * num_patches
    for p in range(num_patches - 1, -1, -1):
        deg = build_degraded_patch(
            spectrogram_data, offset, offset + num_frames_per_patch - 1, num_bands, num_frames_per_patch
        )
        sim = measure_patch_similarity(ref_patches[p], deg)
        if offset == back[p, offset]:  # no match found: a lost packet
            sim.deg_patch_start_time = sim.deg_patch_end_time = sim.similarity = 0.0
            sim.freq_band_means = np.zeros(num_bands)
        else:
            sim.deg_patch_start_time = offset * frame_duration
            sim.deg_patch_end_time = sim.deg_patch_start_time + patch_duration
        sim.ref_patch_start_time = ref_patch_indices[p] * frame_duration
        sim.ref_patch_end_time = sim.ref_patch_start_time + patch_duration
        results[p] = sim
        offset = int(back[p, offset])
    return results


def _voice_activity(self: Any, signal: Any, start_sample: int, total_samples: int, frame_len: int) -> list[float]:
    """VadPatchCreator._get_voice_activity: samples to int16 (clipped, truncated), whole chunks to the VAD."""
    from visqol.patch_creator import RmsVad

    data = np.asarray(signal.data[start_sample : start_sample + total_samples], dtype=np.float64)
    ints = np.clip(data * (1 << 15), -1.0 * (1 << 15), 1.0 * ((1 << 15) - 1)).astype(np.int16)
    vad = RmsVad()
    for chunk in ints[: len(ints) // frame_len * frame_len].reshape(-1, frame_len):
        vad.process_chunk(chunk)
    return vad.get_vad_results()


def apply() -> bool:
    """Patch visqol-python in this process when its version is one checked here; True when patched."""
    from importlib.metadata import version

    import visqol.gammatone
    import visqol.nsim
    import visqol.patch_creator
    import visqol.patch_selector

    if not version("visqol-python").startswith(CHECKED_VERSIONS):
        return False
    visqol.gammatone.GammatoneSpectrogramBuilder._build_scipy = _build_frames  # type: ignore[method-assign]
    visqol.nsim._valid_2d_conv_with_boundary = _conv3_edge
    visqol.patch_selector._find_most_optimal_deg_patches_python = _find_patches
    visqol.patch_creator.VadPatchCreator._get_voice_activity = _voice_activity  # type: ignore[method-assign]
    return True
