"""Tests for `read_marker` in src/mutbot/github/body.py on hostile pull request bodies: anyone
with write access can edit a body, and the feedback loop reads every one."""

from __future__ import annotations

import time

import pytest

from mutbot.github.body import read_marker


@pytest.mark.parametrize(
    "body",
    [
        "<!-- mutbot: {" + '"a":' + "[" * 100_000 + "]" * 100_000 + "} -->",
        '<!-- mutbot: {"a": ' + "1" * 5000 + "} -->",
        '<!-- mutbot: {"a": 1e400} -->',
        '<!-- mutbot: {"a": NaN} -->',
        '<!-- mutbot: {"a": "\ud800"} -->',
        '<!-- mutbot: {"a": 1}\n} -->',
        '<!-- mutbot: {"a": 1} -->\n<!-- mutbot: {broken -->',
    ],
    ids=["nested", "5000-digits", "1e400", "nan", "lone-surrogate", "two-lines", "last-broken"],
)
def test_a_hostile_marker_reads_as_none(body: str) -> None:
    assert read_marker(body) is None


def test_many_marker_starts_are_read_in_linear_time() -> None:
    # a regex scan from each start to the end of the line was quadratic: seconds for 64 KB
    body = "<!-- mutbot: {" * 4681 + '<!-- mutbot: {"slug": "x"} -->'
    started = time.perf_counter()
    assert read_marker(body) == {"slug": "x"}
    assert read_marker(body[:-4]) is None
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("body", [123, ["<!-- mutbot: {} -->"], b"<!-- mutbot: {} -->"])
def test_a_body_that_is_not_text_reads_as_none(body: object) -> None:
    assert read_marker(body) is None  # type: ignore[arg-type]
