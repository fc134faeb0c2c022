"""Duration estimates and relative rates (pure rules, table-driven)."""

from __future__ import annotations

import pytest

from audio.estimate import estimate_duration_ms
from audio.rates import check_rate, parse_percent


@pytest.mark.parametrize(
    ("value", "percent"),
    [("+0%", 0), ("+10%", 10), ("-20%", -20), (" +100% ", 100)],
)
def test_parse_percent(value, percent):
    assert parse_percent(value) == percent


@pytest.mark.parametrize("value", ["10%", "+10", "fast", "+1000%", "", "+-5%"])
def test_parse_percent_refuses(value):
    with pytest.raises(ValueError):
        parse_percent(value)


@pytest.mark.parametrize(("value", "ok"), [("+0%", "+0%"), ("-0%", "+0%"), ("-50%", "-50%"), ("+100%", "+100%")])
def test_check_rate_accepts(value, ok):
    assert check_rate(value) == ok


@pytest.mark.parametrize("value", ["-51%", "+101%"])
def test_check_rate_refuses_extremes(value):
    with pytest.raises(ValueError, match="outside"):
        check_rate(value)


@pytest.mark.parametrize(
    ("text", "rate", "expected_ms"),
    [
        ("", "+0%", 0),
        ("một hai ba bốn", "+0%", 1360),  # 4 syllables x 0.265 s, plus the 0.3 s lead-in
        ("một hai ba bốn.", "+0%", 2060),  # plus a sentence pause of 0.7 s
        ("một, hai; ba bốn.", "+0%", 2460),  # plus two short pauses of 0.2 s
        ("một hai ba bốn", "+50%", 1007),  # the rate scales the reading, not the lead-in
        ("một hai ba bốn", "-50%", 2420),
    ],
)
def test_estimate(text, rate, expected_ms):
    assert estimate_duration_ms(text, rate) == expected_ms


def test_espeak_reads_at_the_newsreaders_pace_slower_than_the_other_engines_default():
    text = "người dân cần chủ động phòng chống lũ quét"
    assert estimate_duration_ms(text, engine="espeak") > estimate_duration_ms(text, engine="edge")
