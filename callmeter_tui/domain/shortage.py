"""When a failure is our own process running short (descriptors, buffers, memory), not the other side's.

Why one rule: a flood of connections can take a process's descriptors for a while. A webhook delivery that
fails then is not the endpoint's failure, and a page render that fails then is not a broken page; both are
retried once the shortage is over, and neither is logged as a crash. Both callers ask this rule.
"""

from __future__ import annotations

import errno

RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_CHAIN_DEPTH = 6  # causes followed (a library's wrapper around the OSError, and its wrapper)


def out_of_resources(exc: BaseException) -> bool:
    """True when the chain holds EMFILE, ENFILE, ENOBUFS or ENOMEM: a local shortage, not a refusal."""
    cur: BaseException | None = exc
    for _ in range(_CHAIN_DEPTH):
        if cur is None:
            return False
        if isinstance(cur, OSError) and cur.errno in RESOURCE_ERRNOS:
            return True
        cur = cur.__cause__ or cur.__context__
    return False
