"""What the ledger makes of a maintainer's commands (pure): `ignored` and `superseded` pull
requests, ignored settings, and refusals the dashboard takes back."""

from __future__ import annotations

from mutbot.ledger.model import Entry, dump, parse
from mutbot.ledger.views import fold, forgiven, history, ignored_settings
from mutbot.proposers.base import Deduper
from mutbot.proposers.learning import barred, failed, succeeded

A, B = "0123456789ab", "abcdef012345"


def entry(event: str, fp: str = A, **fields: object) -> Entry:
    return Entry.model_validate(
        {"event": event, "at": "2026-12-01T10:00:00+00:00", "fingerprint": fp, **fields}
    )


def proposed(fp: str = A) -> list[Entry]:
    return [
        entry("evaluated", fp, title="threads", kind="incremental", verdict="propose", final=True),
        entry("pr-opened", fp, branch="mutbot/t-0123456", pr_number=4, outcome="open"),
    ]


def test_the_new_events_round_trip() -> None:
    entries = [
        entry("ignored", outcome="ignored", pr_number=4, note="ignored by x"),
        entry("superseded", B, outcome="superseded", pr_number=5, note="superseded by #4"),
        entry("setting-ignored", setting="gunicorn.workers", pr_number=4),
        entry("forgotten", setting="gunicorn.workers"),
    ]
    assert parse(dump(entries)).entries == entries


def test_an_ignored_pull_request_is_barred_but_no_failure() -> None:
    [h] = history([*proposed(), entry("ignored", outcome="ignored")])
    assert h.outcome == "ignored"
    assert barred(h) and not failed(h) and not succeeded(h)
    assert Deduper.refused((h,)).seen == {A} and Deduper.from_history((h,)).seen == {A}


def test_a_superseded_pull_request_is_neither_refused_nor_failed() -> None:
    [h] = history([*proposed(), entry("superseded", outcome="superseded")])
    assert h.outcome == "superseded"
    assert not barred(h) and not failed(h)
    assert Deduper.refused((h,)).seen == set()


def test_a_forgotten_refusal_may_come_back() -> None:
    entries = [*proposed(), entry("outcome", outcome="closed"), entry("forgotten", note="by x")]
    record = fold(entries)[A]
    assert record.outcome is None and record.branch is None and record.final is False
    assert forgiven(entries) == {A}
    [h] = history(entries)
    assert Deduper.from_history((h,)).seen == set() and not failed(h)
    # closed again later: the refusal stands again
    again = [*entries, entry("pr-opened", branch="mutbot/t"), entry("outcome", outcome="closed")]
    assert forgiven(again) == frozenset() and fold(again)[A].outcome == "closed"


def test_a_merged_or_reverted_change_is_not_forgotten() -> None:
    entries = [*proposed(), entry("outcome", outcome="merged"), entry("forgotten")]
    assert fold(entries)[A].outcome == "merged"


def test_ignored_settings_and_forgetting_them() -> None:
    entries = [
        *proposed(),
        entry("setting-ignored", setting="gunicorn.workers"),
        entry("setting-ignored", B, setting="dockerfile.ENV PORT"),
        entry("forgotten", setting="gunicorn.workers"),
    ]
    assert list(ignored_settings(entries)) == ["dockerfile.ENV PORT"]
    record = fold(entries)[A]
    assert record.setting is None and record.outcome == "open", "no candidate's event"
    assert B not in fold(entries)
