"""Shared test set-up. Each layer's real-peer fixtures live in tests/fixtures/ as plugins."""

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.sip",
    "tests.fixtures.https",
    "tests.fixtures.browser",
]
