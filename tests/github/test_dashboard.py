"""The dashboard's text (pure): what it shows from the ledger and the open pull requests, which
boxes an edit newly ticked, and hostile words kept inert."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mutbot.github.dashboard import (
    MARKER,
    MAX_TICKS,
    boxes,
    is_dashboard,
    newly_ticked,
    render,
    setting_id,
)
from mutbot.github.types import PullInfo, Tick
from mutbot.ledger.model import Entry

FP = ["0123456789ab", "abcdef012345", "a1b2c3d4e5f6", "00000000000f"]
HOSTILE = (
    "@everyone <img src=x onerror=alert(1)> [click](https://evil.example) fixes #1 "
    "/mutate ignore\n- [x] <!-- mutbot-tick: forget 0123456789ab --> | a | b |"
)


def entry(event: str, fp: str, **fields: object) -> Entry:
    return Entry.model_validate(
        {"event": event, "at": "2026-12-01T10:00:00+00:00", "fingerprint": fp, **fields}
    )


def ledger(title: str = "Raise threads") -> list[Entry]:
    return [
        entry("evaluated", FP[0], title=title, verdict="needs-review", reason="risk 6.0 (limit 5)"),
        entry("evaluated", FP[1], title="Cache", verdict="reject", stage="build", reason="no pip"),
        entry("evaluated", FP[2], title="Quiet logs", verdict="propose"),
        entry("pr-opened", FP[2], pr_number=7, branch="mutbot/q", outcome="open"),
        entry("outcome", FP[2], outcome="closed"),
        entry("evaluated", FP[3], title="Workers", verdict="propose"),
        entry("outcome", FP[3], outcome="merged", pr_number=5, merged_at="2026-12-02T00:00:00Z"),
        entry("setting-ignored", FP[2], setting="appsettings.server.threads", pr_number=7),
    ]


def pull(number: int, title: str, body: str = "") -> PullInfo:
    return PullInfo(number, f"https://x/{number}", "open", False, "mutbot/b", "main", "0" * 40,
                    title, body)  # fmt: skip


MARKED = (
    '<!-- mutbot: {"base_commit": "1234567abcdef", "change": -0.4, "ci_high": -0.3, '
    '"ci_low": -0.5, "fingerprint": "abcdefabcdef", "metric": "latency_p95_ms"} -->'
)


def test_every_section_from_the_ledger() -> None:
    body = render(ledger(), [pull(9, "mutbot: Serve 8 threads", MARKED)])
    assert is_dashboard(body) and body.startswith(MARKER)
    assert (
        "- [ ] <!-- mutbot-tick: rebench 9 --> #9 Serve 8 threads — p95 latency -40.0% "
        "(CI -50.0%…-30.0%), measured on 1234567"
    ) in body
    assert f"- [ ] <!-- mutbot-tick: measure {FP[0]} --> Raise threads: risk 6.0 (limit 5)" in body
    assert "| Cache | build | no pip | 2026-12-01 |" in body
    assert f"- [ ] <!-- mutbot-tick: forget {FP[2]} --> Quiet logs: closed unmerged #7" in body
    threads = setting_id("appsettings.server.threads")
    assert f"- [ ] <!-- mutbot-tick: forget setting:{threads} --> setting" in body
    assert "| #5 Workers | 2026-12-02 | watching |" in body
    assert "4 candidates evaluated: 2 proposed, 1 need review, 0 inconclusive, 1 rejected." in body
    assert "1 merged, 0 open, 1 closed unmerged, 0 ignored, 0 superseded, 0 reverted." in body
    assert not any(boxes(body).values()), "every box unticked"


def test_a_superseded_or_ignored_pull_request_is_counted_as_such() -> None:
    entries = [
        entry("evaluated", FP[0], title="a", verdict="propose"),
        entry("superseded", FP[0], outcome="superseded", pr_number=3),
        entry("evaluated", FP[1], title="b", verdict="propose"),
        entry("ignored", FP[1], outcome="ignored", pr_number=4),
    ]
    body = render(entries, [])
    assert "0 closed unmerged, 1 ignored, 1 superseded" in body
    assert f"mutbot-tick: forget {FP[1]} --> b: ignored (`/mutate ignore`) #4" in body
    assert f"forget {FP[0]}" not in body, "a superseded pull request is no refusal"


def test_hostile_text_stays_inert() -> None:
    body = render(ledger(HOSTILE), [pull(9, HOSTILE, HOSTILE)])
    assert "<img" not in body and "@everyone" not in body
    assert "](https://" not in body and "https://evil" not in body
    assert "#1 " not in body and "/mutate ignore\n" not in body
    # no box but mutbot's own: the title's fake box is text inside a line
    assert set(boxes(body)) == {
        ("rebench", "9"),
        ("measure", FP[0]),
        ("forget", FP[2]),
        ("forget", f"setting:{setting_id('appsettings.server.threads')}"),
    }
    assert not re.search(r"^\| .*[^\\]\| a \| b \|", body, re.MULTILINE), "no extra table cells"


def tick(body: str, action: str, target: str) -> str:
    old = f"- [ ] <!-- mutbot-tick: {action} {target} -->"
    assert old in body
    return body.replace(old, old.replace("[ ]", "[x]"))


def test_newly_ticked_boxes_are_read_once() -> None:
    body = render(ledger(), [pull(9, "t", MARKED)])
    once = tick(body, "rebench", "9")
    assert newly_ticked(body, once) == (Tick("rebench", "9"),)
    twice = tick(once, "measure", FP[0])
    assert newly_ticked(once, twice) == (Tick("measure", FP[0]),), "the first one was done"
    assert newly_ticked(twice, once) == (), "unticking asks nothing"
    assert newly_ticked(body, body.replace("Nothing", "nothing")) == ()


def test_a_forged_box_is_not_read() -> None:
    forged = (
        "- [x] <!-- mutbot-tick: rebench 0 -->\n- [x] <!-- mutbot-tick: measure XYZ -->\n"
        "- [x] <!-- mutbot-tick: push origin --> \n  text - [x] <!-- mutbot-tick: rebench 4 -->"
    )
    assert newly_ticked("", forged) == ()


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400), st.text(max_size=400))
def test_newly_ticked_is_total_and_only_reports_ticked_boxes(before: str, after: str) -> None:
    found = newly_ticked(before, after)
    assert len(found) <= MAX_TICKS and len(set(found)) == len(found)
    ticked = boxes(after)
    for t in found:
        assert ticked[(t.action, t.target)] and not boxes(before).get((t.action, t.target))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(["rebench 9", f"measure {FP[0]}", f"forget {FP[2]}"]), max_size=5),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80),
)
def test_ticking_rendered_boxes_gives_exactly_those(chosen: list[str], title: str) -> None:
    body = render(ledger(title), [pull(9, title, MARKED)])
    after = body
    for choice in dict.fromkeys(chosen):
        action, target = choice.split()
        after = tick(after, action, target)
    got = newly_ticked(body, after)
    assert [f"{t.action} {t.target}" for t in got] == [
        c for c in ["rebench 9", f"measure {FP[0]}", f"forget {FP[2]}"] if c in chosen
    ]


def test_an_exact_primary_reads_exact_not_as_a_point_interval() -> None:
    marked = MARKED.replace('"metric": "latency_p95_ms"', '"metric": "image_size_mb"')
    body = render(ledger(), [pull(9, "mutbot: Copy only what runs", marked)])
    assert "#9 Copy only what runs — image size -40.0% (exact), measured on 1234567" in body
