"""The event bus and its events: the neutral kernel engine, webhooks, web and tui all import (just above domain/)."""
