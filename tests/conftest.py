"""Shared test set-up. Each layer's real-peer fixtures live in tests/fixtures/ as plugins."""

import atexit
import os
import shutil
import tempfile

# Every test peer listens on loopback only; tests pass sip_bind=LOOPBACK to the prober explicitly (product default
# 0.0.0.0, engine.sip_bind in a config).
# Call probes keep their last recording per probe; in tests that goes to a throw-away directory.
# The process that makes it (xdist workers inherit it) removes it at exit, so test runs leave no directories behind.
if "CALLMETER_RECORDINGS_DIR" not in os.environ:
    os.environ["CALLMETER_RECORDINGS_DIR"] = _rec = tempfile.mkdtemp(prefix="callmeter-rec-")
    atexit.register(shutil.rmtree, _rec, True)

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.sip",
    "tests.fixtures.https",
    "tests.fixtures.browser",
    "tests.fixtures.npm",
]
