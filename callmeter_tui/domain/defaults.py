"""Every default a user can see, defined once: the config loader, the store's column defaults, the TUI forms and
the status pages all read these names, so a default changed here changes everywhere."""

from __future__ import annotations

PROBE_INTERVAL_S = 60.0
PROBE_TIMEOUT_S = 10.0
CALL_DURATION_S = 15.0
ACCENT_COLOR = "#0b7285"
BAR_DAYS = 90
PAGE_REFRESH_S = 60
SIP_BIND = "0.0.0.0"  # engine.sip_bind: the prober's SIP/RTP transports listen on every interface
# A probe silent for more than this many intervals has no data (a gap in bars and charts, not a state).
NO_DATA_INTERVALS = 3.0

LISTENING_BUDGET_S = 60.0  # after hangup a call may wait this long for its score (ViSQOL, one at a time per worker)
