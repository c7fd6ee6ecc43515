"""callmeter-tui: SIP/VoIP monitoring console (GPL-2.0-or-later)."""

__version__ = "0.1.0"
