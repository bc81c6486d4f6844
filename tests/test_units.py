"""Tests for src/mutbot/units.py: human durations and sizes."""

from __future__ import annotations

import pytest

from mutbot.units import (
    format_duration,
    format_size,
    parse_duration,
    parse_fraction,
    parse_size,
    shown,
)

MIB = 1024**2
GIB = 1024**3

DURATION_HINT = "expected a duration such as 30s, 500ms or 1m30s"
SIZE_HINT = "expected a size such as 256m, 512MiB or 1g"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (30, 30.0),
        (2.5, 2.5),
        (0, 0.0),
        ("30", 30.0),
        ("2.5", 2.5),
        ("30s", 30.0),
        ("500ms", 0.5),
        ("1m30s", 90.0),
        ("1.5m", 90.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("0.5d", 43200.0),
        ("1h2m3s", 3723.0),
        ("30S", 30.0),
        (" 30 s ", 30.0),
        ("1m 30s", 90.0),
        ("0s", 0.0),
    ],
)
def test_parse_duration_accepts(value: object, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["", "   ", "soon", "5x", "1m30", "30s5", "ms", "-5s", None, []])
def test_parse_duration_rejects_with_the_value(value: object) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert str(info.value) == f"{DURATION_HINT}, got {value!r}"


def test_parse_duration_rejects_bool() -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(True)
    assert str(info.value) == DURATION_HINT


def test_parse_duration_rejects_negative_number() -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(-1)
    assert str(info.value) == "expected a duration that is not negative, got -1"


@pytest.mark.parametrize(
    ("value", "size"),
    [
        (268435456, 268435456),
        (1, 1),
        ("100", 100),
        ("100b", 100),
        ("512k", 512 * 1024),
        ("512kb", 512 * 1024),
        ("512KiB", 512 * 1024),
        ("256m", 256 * MIB),
        ("256M", 256 * MIB),
        ("256MB", 256 * MIB),
        ("256MiB", 256 * MIB),
        ("256Mi", 256 * MIB),
        ("256 m", 256 * MIB),
        (" 1g ", GIB),
        ("1GiB", GIB),
        ("1.5g", 3 * GIB // 2),
        ("0.5k", 512),
    ],
)
def test_parse_size_accepts(value: object, size: int) -> None:
    assert parse_size(value) == size
    assert isinstance(parse_size(value), int)


@pytest.mark.parametrize("value", ["", "lots", "5t", "-1m", "1 2m", 1.5, None, "m"])
def test_parse_size_rejects_with_the_value(value: object) -> None:
    with pytest.raises(ValueError) as info:
        parse_size(value)
    assert str(info.value) == f"{SIZE_HINT}, got {value!r}"


def test_parse_size_rejects_bool() -> None:
    with pytest.raises(ValueError) as info:
        parse_size(False)
    assert str(info.value) == SIZE_HINT


@pytest.mark.parametrize("value", [0, -1, "0", "0m"])
def test_parse_size_rejects_zero_and_below(value: object) -> None:
    with pytest.raises(ValueError) as info:
        parse_size(value)
    assert str(info.value) == f"expected a size above zero, got {value!r}"


def test_parse_size_never_returns_zero() -> None:
    with pytest.raises(ValueError):
        parse_size("0.5b")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.5, "500ms"),
        (0.001, "1ms"),
        (1, "1s"),
        (30, "30s"),
        (2.5, "2.5s"),
        (90, "90s"),
        (119.5, "119.5s"),
        (120, "2m"),
        (150, "2.5m"),
        (3600, "60m"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (1, "1b"),
        (1023, "1023b"),
        (1024, "1k"),
        (1536, "1536b"),
        (512 * 1024, "512k"),
        (256 * MIB, "256m"),
        (1024 * MIB, "1g"),
        (3 * GIB + 1, f"{3 * GIB + 1}b"),
    ],
)
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text


@pytest.mark.parametrize("size", [1, 1000, 1536, 512 * 1024, 256 * MIB, 3 * GIB, 3 * GIB + 7])
def test_format_size_round_trips(size: int) -> None:
    assert parse_size(format_size(size)) == size


@pytest.mark.parametrize("seconds", [0.25, 1.0, 30.0, 90.0, 120.0, 150.0, 3600.0])
def test_format_duration_round_trips(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


# Hardening: any YAML number or text gives a value or a one-line ValueError, never a crash.


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (10**400, "expected a duration of at most 24h, got a huge number"),
        (
            "9" * 400,
            "expected a duration of at most 24h, got '" + "9" * 27 + "..." + "9" * 28 + "'",
        ),
        (float("inf"), "expected a duration of at most 24h, got inf"),
        (float("nan"), "expected a duration of at most 24h, got nan"),
        ("24h1s", "expected a duration of at most 24h, got '24h1s'"),
    ],
)
def test_parse_duration_is_finite_and_at_most_a_day(value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert str(info.value) == message


def test_parse_duration_takes_a_longer_bound() -> None:
    assert parse_duration("24h") == 86400.0
    assert parse_duration("2160h", most=90 * 86400.0) == parse_duration("90d", most=90 * 86400.0)
    with pytest.raises(ValueError, match="at most 90d"):
        parse_duration("2161h", most=90 * 86400.0)
    with pytest.raises(ValueError, match="at most 24h"):
        parse_duration("2d")


@pytest.mark.parametrize("value", [10**400, "9" * 400 + "g", 2 * 1024**4, "1025g"])
def test_parse_size_is_at_most_a_tebibyte(value: object) -> None:
    with pytest.raises(ValueError, match="expected a size of at most 1024g, got"):
        parse_size(value)
    assert parse_size("1024g") == 1024**4


@pytest.mark.parametrize("value", [10**400, float("nan"), float("inf"), "9" * 400 + "%"])
def test_parse_fraction_refuses_huge_and_odd_numbers(value: object) -> None:
    with pytest.raises(ValueError, match="expected a fraction from 0 to below 1, got"):
        parse_fraction(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("soon", "'soon'"),
        pytest.param(10**5000, "a huge number", id="5000-digits"),  # repr() refuses it
        ([[[[[1]]]]], "[[[[...]]]]"),
        (list(range(100)), "[0, 1, 2, 3, 4, 5, ...]"),
        ("x" * 1000, "'" + "x" * 27 + "..." + "x" * 28 + "'"),
    ],
)
def test_shown_is_a_short_repr(value: object, text: str) -> None:
    assert shown(value) == text
