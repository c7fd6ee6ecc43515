"""Shared test set-up. Each layer's real-peer fixtures live in tests/fixtures/ as plugins."""

import os
import tempfile

# Every test peer listens on loopback only; tests pass sip_bind=LOOPBACK to the prober explicitly (product default
# 0.0.0.0, engine.sip_bind in a config).
# Call probes keep their last recording per probe; in tests that goes to a throw-away directory.
os.environ.setdefault("CALLMETER_RECORDINGS_DIR", tempfile.mkdtemp(prefix="callmeter-rec-"))

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.sip",
    "tests.fixtures.https",
    "tests.fixtures.browser",
]
