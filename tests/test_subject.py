"""A subject's states: forward only, skipping only what may be skipped, a failure final."""

from __future__ import annotations

import pytest

from mutbot.candidates import Candidate
from mutbot.errors import StageFailure
from mutbot.run.subject import Subject, Transition, baseline, recorded
from testing.reporters import RecordingReporter

DIFF = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"


def candidate() -> Subject:
    return Subject("c", Candidate(title="c", kind="incremental", diff=DIFF))


def test_a_candidate_goes_through_every_stage_in_order() -> None:
    subject = candidate()
    for stage in ("policy", "apply", "build", "tests", "screen", "confirm"):
        with recorded(subject, stage, RecordingReporter()):
            pass
    assert subject.state == "confirmed"
    subject.judged()
    assert subject.state == "judged"
    assert [s.name for s in subject.stages] == [
        "policy",
        "apply",
        "build",
        "tests",
        "screen",
        "confirm",
    ]


def test_screening_may_be_skipped_but_nothing_else() -> None:
    subject = candidate()
    for state in ("policy", "applied", "built", "tested", "confirmed"):  # no screening
        subject.advance(state)
    with pytest.raises(Transition, match="confirmed cannot become tested"):
        subject.advance("tested")
    skipper = candidate()
    with pytest.raises(Transition, match="proposed cannot become built"):
        skipper.advance("built")  # never applied


def test_only_the_baseline_has_no_policy_stage() -> None:
    base = baseline()
    base.advance("applied")
    with pytest.raises(Transition, match="proposed cannot become applied"):
        candidate().advance("applied")


def test_a_failure_ends_the_subject_with_its_reason() -> None:
    subject = candidate()
    with recorded(subject, "policy", RecordingReporter()):
        raise StageFailure("policy", "touches a protected file")
    assert subject.state == "rejected" and subject.failure is not None
    assert (
        subject.stages[-1].ok is False and subject.stages[-1].detail == "touches a protected file"
    )
    with pytest.raises(Transition, match="rejected"):
        subject.advance("applied")


def test_left_out_is_rejected_without_a_failed_stage() -> None:
    subject = candidate()
    for state in ("policy", "applied", "built", "tested", "screened"):
        subject.advance(state)
    subject.leave_out("screen", "not among the 2 best")
    assert subject.state == "rejected" and not subject.stages
    assert subject.failure is not None
    assert (subject.failure.stage, subject.failure.reason) == ("screen", "not among the 2 best")
