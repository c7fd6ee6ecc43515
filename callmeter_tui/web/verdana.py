"""Verdana 11px advance widths, the metric shields.io lays its badges out with (so ours sit beside theirs).

Printable ASCII from space (32) to tilde (126), in pixels, as measured by shields.io's width table
(npm ``anafanafo``, MIT). Other characters count as wide as "m", as shields.io guesses for unknown ones.
"""

from __future__ import annotations

_ASCII_WIDTHS = (
    3.87,
    4.33,
    5.05,
    9,
    6.99,
    11.84,
    7.99,
    2.95,
    5,
    5,
    6.99,
    9,
    4,
    5,
    4,
    5,
    6.99,
    6.99,
    6.99,
    6.99,
    6.99,
    6.99,
    6.99,
    6.99,
    6.99,
    6.99,
    5,
    5,
    9,
    9,
    9,
    6,
    11,
    7.52,
    7.54,
    7.68,
    8.48,
    6.96,
    6.32,
    8.53,
    8.27,
    4.63,
    5,
    7.62,
    6.12,
    9.27,
    8.23,
    8.66,
    6.63,
    8.66,
    7.65,
    7.52,
    6.78,
    8.05,
    7.52,
    10.88,
    7.54,
    6.77,
    7.54,
    5,
    5,
    5,
    9,
    6.99,
    6.99,
    6.61,
    6.85,
    5.73,
    6.85,
    6.55,
    3.87,
    6.85,
    6.96,
    3.02,
    3.79,
    6.51,
    3.02,
    10.7,
    6.96,
    6.68,
    6.85,
    6.85,
    4.69,
    5.73,
    4.33,
    6.96,
    6.51,
    9,
    6.51,
    6.51,
    5.78,
    6.98,
    5,
    6.98,
    9,
)
_M_WIDTH = _ASCII_WIDTHS[ord("m") - 32]


def text_width(text: str) -> float:
    """Width of ``text`` in Verdana 11px, in pixels."""
    total = 0.0
    for ch in text:
        code = ord(ch)
        if 32 <= code < 127:
            total += _ASCII_WIDTHS[code - 32]
        elif code >= 0xA0:
            total += _M_WIDTH
    return total
