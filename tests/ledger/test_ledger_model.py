import json
import math

import pytest
from pydantic import ValidationError

from mutbot.ledger.model import Entry, dump, evaluated, parse
from mutbot.results import CandidateResult, ProposalRecord
from testing.records import candidate, run


def distinct(c: CandidateResult, fingerprint: str) -> CandidateResult:
    return c.model_copy(update={"fingerprint": fingerprint})


def test_an_entry_survives_a_round_trip_with_the_identifying_keys_first() -> None:
    entry = Entry(
        at="2024-05-01T12:00:00+00:00",
        event="outcome",
        fingerprint="0123456789ab",
        pr_number=7,
        outcome="merged",
        metrics={"latency_p95_ms": {"change": -0.2}},
        production={"verdict": "better", "change": -0.15, "revert": False},
    )
    line = entry.line()
    assert "\n" not in line
    assert list(json.loads(line))[:4] == ["version", "at", "event", "fingerprint"]
    assert "title" not in json.loads(line)  # unset fields are left out
    assert parse(dump([entry])).entries == [entry]


def test_an_entry_rejects_a_bad_fingerprint_a_naive_time_and_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        Entry(event="evaluated", fingerprint="0123456789AB")
    with pytest.raises(ValidationError):
        Entry(event="evaluated", fingerprint="0123456789ab", at="2024-05-01T12:00:00")
    with pytest.raises(ValidationError):
        Entry.model_validate({"event": "evaluated", "fingerprint": "0123456789ab", "x": 1})


def test_parse_skips_and_counts_damaged_lines_newer_versions_and_a_cut_last_line() -> None:
    good = Entry(event="pr-intent", fingerprint="0123456789ab", branch="mutbot/x")
    newer = json.dumps({"version": 2, "event": "something-new", "fingerprint": "0123456789ab"})
    data = b"".join(
        [
            dump([good]),
            b"{not json\n",
            b'{"version":1,"event":"bogus","fingerprint":"0123456789ab"}\n',
            b"\n",
            newer.encode() + b"\n",
            dump([good]),
            good.line().encode(),  # valid JSON, but its newline never made it: cut short
        ]
    )
    parsed = parse(data)
    assert parsed.entries == [good, good]
    assert (parsed.damaged, parsed.newer) == (3, 1)
    assert parse(b"") == parse(b"\n")


def test_evaluated_records_every_candidate_whatever_its_verdict() -> None:
    better = distinct(candidate("a"), "aaaaaaaaaaaa")
    same = distinct(candidate("b", factor=1.0), "bbbbbbbbbbbb")
    broken = distinct(candidate("c", rejected_at=("build", "docker build failed")), "cccccccccccc")
    record = run([better, same, broken], ["a"])
    record = record.model_copy(
        update={
            "proposal": ProposalRecord(
                proposer="search",
                requested="anthropic",
                failure=None,
                notes=[],
                usage=None,
                seconds=1.0,
                baseline_source=None,
                opportunities=[],
                candidates=3,
            )
        }
    )
    a, b, c = evaluated(record)

    assert [e.event for e in (a, b, c)] == ["evaluated"] * 3
    assert [e.verdict for e in (a, b, c)] == ["propose", "reject", "reject"]
    assert (a.run_id, a.base_commit, a.proposer) == (record.run_id, record.base_commit, "search")
    assert (a.title, a.diff, a.files, a.rationale) == (
        better.title,
        better.diff,
        better.files,
        better.rationale,
    )
    comp = better.comparisons["latency_p95_ms"]
    assert better.judgement is not None
    assert (a.primary, a.change, a.ci_low, a.ci_high, a.p_adjusted) == (
        "latency_p95_ms",
        comp.change,
        comp.ci_low,
        comp.ci_high,
        better.judgement.p_adjusted,
    )
    assert a.change is not None and a.change < 0  # the metric's own direction: lower p95
    assert a.metrics is not None
    assert a.metrics["latency_p95_ms"]["baseline"] == comp.baseline
    assert set(a.metrics) == set(better.comparisons)
    assert (b.stage, b.reason) == (same.stage, same.reason)
    assert (c.stage, c.reason, c.change, c.metrics, c.p_adjusted) == (
        "build",
        "docker build failed",
        None,
        None,
        None,
    )
    # every entry is a valid line of the ledger
    assert parse(dump([a, b, c])).entries == [a, b, c]


def test_figures_that_are_not_numbers_are_stored_as_absent() -> None:
    entry = Entry(
        event="production",
        fingerprint="0123456789ab",
        change=math.nan,
        metrics={"latency_p95_ms": {"baseline": 1.0, "change": math.inf}},
        production={"change": math.nan},
    )
    line = entry.line()
    assert "NaN" not in line and "Infinity" not in line
    assert json.loads(line)["metrics"] == {"latency_p95_ms": {"baseline": 1.0}}
    assert parse(dump([entry])).damaged == 0


def test_evaluated_leaves_out_figures_that_could_not_be_measured() -> None:
    c = candidate("a")
    comp = c.comparisons["latency_p95_ms"].model_copy(update={"change": math.nan})
    c = c.model_copy(update={"comparisons": {**c.comparisons, "latency_p95_ms": comp}})
    (entry,) = evaluated(run([c], []))
    assert entry.change is None
    assert entry.metrics is not None
    assert "change" not in entry.metrics["latency_p95_ms"]
    assert parse(dump([entry])).entries == [entry]


HEAD = '{"version":1,"at":"2024-01-01T00:00:00+00:00","event":"production","fingerprint":"' + (
    "0123456789ab" + '"'
)


@pytest.mark.parametrize(
    "line",
    [
        b"[" * 200_000 + b"]" * 200_000,
        b'{"version": 1, "x": ' + b"[" * 300 + b"]" * 300 + b"}",
        b'{"version": ' + b"9" * 5000 + b"}",
        (HEAD + ',"production":{"change":' + "1" + "0" * 400 + "}}").encode(),
        (HEAD + ',"change":1e400,"primary":"latency_p95_ms"}').encode(),
        (HEAD + ',"change":NaN}').encode(),
        (HEAD + ',"note":"\xff"}').encode("latin-1"),
        b'"just a string"',
    ],
    ids=["200000-deep", "300-deep", "5000-digits", "10**400", "1e400", "nan", "latin-1", "str"],
)
def test_a_hostile_line_counts_as_damaged_and_the_rest_is_read(line: bytes) -> None:
    good = Entry(event="pr-intent", fingerprint="0123456789ab", branch="mutbot/x")
    parsed = parse(dump([good]) + line + b"\n" + dump([good]))
    assert parsed.entries == [good, good]
    assert (parsed.damaged, parsed.newer) == (1, 0)
