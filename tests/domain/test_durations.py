from __future__ import annotations

import pytest

from callmeter_tui.domain.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("30s", 30.0), ("5m", 300.0), ("2h", 7200.0), ("30d", 2592000.0), (" 1.5m ", 90.0), ("0s", 0.0)],
)
def test_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "30", "5 minutes", "-5s", "1w", "s", "1.s", 30, 2.5, True, None])
def test_parse_rejects_with_one_line(bad: object) -> None:
    with pytest.raises(ValueError) as exc:
        parse_duration(bad)  # type: ignore[arg-type]
    assert "\n" not in str(exc.value) and str(exc.value)


def test_bare_number_hint_names_the_unit() -> None:
    with pytest.raises(ValueError, match="'30s'"):
        parse_duration(30)


@pytest.mark.parametrize(
    ("seconds", "text"), [(60, "1m"), (0.5, "500ms"), (90, "90s"), (7200, "2h"), (86400 * 30, "30d"), (0, "0ms")]
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(format_duration(seconds)) == seconds
