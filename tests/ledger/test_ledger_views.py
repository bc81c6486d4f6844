import json
from pathlib import Path

import pytest

from mutbot.cli import main
from mutbot.ledger.model import Entry, dump, evaluated
from mutbot.ledger.store import LOCAL_PATH
from mutbot.ledger.views import export_jsonl, fold, history, show
from mutbot.results import CandidateResult
from testing.records import candidate, run

FASTER, SAME, BROKEN = "aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"


def distinct(c: CandidateResult, fingerprint: str, title: str) -> CandidateResult:
    return c.model_copy(update={"fingerprint": fingerprint, "title": title})


def loop() -> list[Entry]:
    """A run's three candidates, then the PR, merge and production story of the better one."""
    record = run(
        [
            distinct(candidate("a"), FASTER, "Use 4 workers"),
            distinct(candidate("b", factor=1.0), SAME, "Tune the pool"),
            distinct(
                candidate("c", rejected_at=("build", "docker build failed")), BROKEN, "Slim image"
            ),
        ],
        ["a"],
    )
    at = "2024-01-02T00:00:00+00:00"
    return [
        *evaluated(record),
        Entry(at=at, event="pr-intent", fingerprint=FASTER, branch="mutbot/use-4-workers"),
        Entry(at=at, event="pr-opened", fingerprint=FASTER, pr_number=12, outcome="open"),
        Entry(at=at, event="outcome", fingerprint=FASTER, outcome="merged", merge_sha="f" * 40),
    ]


def test_fold_keeps_the_latest_value_of_each_field_per_candidate() -> None:
    records = fold(loop())

    assert list(records) == [FASTER, SAME, BROKEN]
    faster = records[FASTER]
    assert (faster.events, faster.last_event) == (4, "outcome")
    assert (faster.first_at, faster.last_at) == (
        "2024-01-01T00:10:00+00:00",
        "2024-01-02T00:00:00+00:00",
    )
    assert (faster.verdict, faster.branch, faster.pr_number) == (
        "propose",
        "mutbot/use-4-workers",
        12,
    )
    assert (faster.outcome, faster.merge_sha) == ("merged", "f" * 40)
    assert faster.title == "Use 4 workers"  # set once, kept
    assert records[BROKEN].events == 1
    assert records[BROKEN].stage == "build"


def test_a_reverted_mutation_stays_reverted_when_the_api_still_says_merged() -> None:
    entries = [
        *loop(),
        Entry(event="outcome", fingerprint=FASTER, outcome="reverted"),
        Entry(event="outcome", fingerprint=FASTER, outcome="merged"),
    ]
    assert fold(entries)[FASTER].outcome == "reverted"


def test_history_speaks_in_improvements_and_knows_what_production_reverted() -> None:
    entries = loop()
    faster, same, broken = history(entries)

    assert (faster.fingerprint, faster.title, faster.kind) == (
        FASTER,
        "Use 4 workers",
        "incremental",
    )
    assert faster.verdict == "propose"
    assert faster.outcome == "merged"
    predicted = fold(entries)[FASTER].change
    assert predicted is not None and predicted < 0  # p95 went down: the metric's own direction
    assert faster.change == -predicted  # + = better
    assert (broken.verdict, broken.reason, broken.change) == ("reject", "docker build failed", None)
    assert same.outcome is None

    regressed = Entry(
        event="production",
        fingerprint=FASTER,
        production={"verdict": "regressed", "change": 0.3, "revert": True},
    )
    assert history([*entries, regressed])[0].outcome == "reverted"
    revert = Entry(event="revert-opened", fingerprint=FASTER, revert_pr=13)
    assert history([*entries, revert])[0].outcome == "reverted"


def test_history_prefers_higher_is_better_metrics_as_they_are() -> None:
    throughput = Entry(
        event="evaluated",
        fingerprint=FASTER,
        title="More threads",
        kind="radical",
        verdict="propose",
        primary="throughput_rps",
        change=0.25,
    )
    (entry,) = history([throughput])
    assert (entry.change, entry.kind) == (0.25, "radical")


def test_history_leaves_out_candidates_never_evaluated() -> None:
    assert history([Entry(event="policy", fingerprint=FASTER, reason="protected path")]) == ()


def test_show_lists_each_candidate_with_its_pr_outcome_and_effects() -> None:
    production = Entry(
        event="production",
        fingerprint=FASTER,
        production={"verdict": "better", "change": -0.15, "revert": False},
    )
    lines = show([*loop(), production]).splitlines()

    assert lines[0].split() == [
        "fingerprint",
        "title",
        "verdict",
        "PR",
        "outcome",
        "predicted",
        "production",
    ]
    faster = fold(loop())[FASTER]
    assert faster.change is not None
    assert lines[1].startswith(FASTER)
    for cell in ("Use 4 workers", "propose", "#12", "merged", f"{faster.change * 100:+.1f}%"):
        assert cell in lines[1]
    assert lines[1].endswith("-15.0%")
    assert lines[3].split()[:3] == [BROKEN, "Slim", "image"]
    assert show([]) == "The ledger is empty: no candidate has been evaluated yet."


def test_show_reads_the_production_effect_from_the_monitors_verdicts() -> None:
    production = Entry(
        event="production",
        fingerprint=FASTER,
        production={
            "revert": True,
            "reason": "p95 latency up 30%",
            "verdicts": [
                {"metric": "error_rate", "change": 0.001},
                {"metric": "latency_p95_ms", "change": 0.3},
            ],
        },
    )
    line = show([*loop(), production]).splitlines()[1]
    assert line.endswith("merged, revert due  latency_p95_ms -19.0%  +30.0%")
    assert json.loads(export_jsonl([*loop(), production])[0])["labels"]["realised_change"] == 0.3


def test_show_as_json_gives_the_folded_records() -> None:
    data = json.loads(show(loop(), as_json=True))
    assert [r["fingerprint"] for r in data] == [FASTER, SAME, BROKEN]
    assert data[0]["pr_number"] == 12
    assert data[0]["events"] == 4
    assert "pr_number" not in data[1]


def test_export_writes_one_training_example_per_evaluated_candidate() -> None:
    entries = [*loop(), Entry(event="policy", fingerprint="dddddddddddd", reason="quiet hours")]
    lines = export_jsonl(entries)

    assert len(lines) == 3
    first = json.loads(lines[0])
    assert set(first) == {"fingerprint", "context", "completion", "labels"}
    assert first["context"] == {
        "title": "Use 4 workers",
        "kind": "incremental",
        "category": None,
        "files": ["config/server.ini"],
        "rationale": "Ping @someone: <script>alert(1)</script> more workers.",
        "proposer": None,
        "base_commit": "0123456789abcdef0123",
    }
    assert first["completion"].startswith("diff --git a/config/server.ini")
    labels = first["labels"]
    assert (labels["verdict"], labels["outcome"], labels["primary"]) == (
        "propose",
        "merged",
        "latency_p95_ms",
    )
    assert labels["improvement"] == -labels["predicted_change"] > 0
    broken = json.loads(lines[2])["labels"]
    assert (broken["stage"], broken["reason"], broken["outcome"]) == (
        "build",
        "docker build failed",
        None,
    )


def test_show_survives_figures_no_float_holds() -> None:
    # `parse` refuses them; an entry built in code must not crash the table either
    huge = Entry(
        event="production",
        fingerprint="0123456789ab",
        primary="latency_p95_ms",
        production={"change": 10**400, "verdicts": [{"metric": "latency_p95_ms", "change": 1}]},
    )
    assert "0123456789ab" in show([huge])
    odd = huge.model_copy(update={"production": {"change": 1e308}})
    assert show([odd]).splitlines()[1].endswith("+inf%")


def test_mutbot_ledger_reads_a_ledger_with_hostile_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = Entry(event="pr-opened", fingerprint="0123456789ab", title="Good", pr_number=3)
    head = '{"version":1,"at":"2024-01-01T00:00:00+00:00","event":"production"'
    hostile = [
        head + ',"fingerprint":"0123456789ab","production":{"change":1' + "0" * 400 + "}}",
        "[" * 200_000 + "]" * 200_000,
    ]
    path = tmp_path / LOCAL_PATH
    path.parent.mkdir()
    path.write_bytes(dump([good]) + "\n".join(hostile).encode() + b"\n")
    assert main(["ledger", "--repo", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Good" in out and "#3" in out


@pytest.mark.parametrize("verdicts", [1.5, "x", {"metric": "latency_p95_ms"}, [1, None]])
def test_show_survives_verdicts_of_any_shape(verdicts: object) -> None:
    entry = Entry(
        event="production",
        fingerprint="0123456789ab",
        primary="latency_p95_ms",
        production={"verdicts": verdicts},
    )
    assert show([entry]).splitlines()[1].startswith("0123456789ab")
