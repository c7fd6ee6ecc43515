"""How many DTMF digits of a test call went missing or came back wrong (the metric ``dtmf_errors``)."""

from __future__ import annotations


def dtmf_errors(sent: str, received: str) -> int:
    """Edit distance between what was sent and what came back: a missing, an extra or a wrong digit each count 1."""
    prev = list(range(len(received) + 1))
    for i, a in enumerate(sent, 1):
        row = [i]
        for j, b in enumerate(received, 1):
            row.append(min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a != b)))
        prev = row
    return prev[-1]
