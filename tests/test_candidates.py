"""Tests for src/mutbot/candidates.py: the candidates file, fingerprints and slugs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mutbot.candidates import Candidate, load_candidates, slugify
from mutbot.errors import CandidateError

SHAPE = 'expected a JSON list of {"title", "rationale", "kind", "diff"}'

DIFF = (
    "diff --git a/config/server.ini b/config/server.ini\n"
    "index 1111111..2222222 100644\n"
    "--- a/config/server.ini\n"
    "+++ b/config/server.ini\n"
    "@@ -1,4 +1,4 @@\n"
    " [server]\n"
    "-workers = 1\n"
    "+workers = 4\n"
    " \n"
    " timeout = 30\n"
)

GOOD = {
    "title": "Use 4 workers",
    "rationale": "More workers, lower tail latency.",
    "kind": "incremental",
    "diff": DIFF,
    "risk": 3,
}


def write(folder: Path, data: object) -> Path:
    path = folder / "candidates.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(CandidateError) as info:
        load_candidates(path)
    assert info.value.exit_code == 3
    return str(info.value)


def fingerprint(diff: str) -> str:
    return Candidate(title="t", kind="incremental", diff=diff).fingerprint


def test_load_valid_file(tmp_path: Path) -> None:
    radical = {"title": "Switch server", "kind": "radical", "diff": DIFF}
    candidates = load_candidates(write(tmp_path, [GOOD, radical]))
    assert candidates == [
        Candidate(
            title="Use 4 workers",
            rationale="More workers, lower tail latency.",
            kind="incremental",
            diff=DIFF,
            risk=3.0,
        ),
        Candidate(title="Switch server", kind="radical", diff=DIFF),
    ]
    assert candidates[1].rationale == ""
    assert candidates[1].risk is None


def test_empty_list_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, [])
    assert error_of(path) == f"{path}: the list is empty; nothing to measure"


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[\n  {"title": "x",\n   "kind": }\n]\n')
    assert error_of(path) == f"{path}: not valid JSON at line 3, column 12: expected value"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    assert error_of(path) == f"{path}: cannot read: No such file or directory"


def test_wrong_shape(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert error_of(path) == f"{path}: (top level): Input should be a valid list; {SHAPE}"


def test_unknown_key_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, [{**GOOD, "author": "me"}])
    assert error_of(path) == f"{path}: 0/author: Extra inputs are not permitted; {SHAPE}"


def test_bad_kind(tmp_path: Path) -> None:
    path = write(tmp_path, [GOOD, {**GOOD, "kind": "wild"}])
    assert error_of(path) == f"{path}: 1/kind: Input should be 'incremental' or 'radical'; {SHAPE}"


@pytest.mark.parametrize(
    ("risk", "message"),
    [
        (11, "Input should be less than or equal to 10"),
        (-1, "Input should be greater than or equal to 0"),
    ],
)
def test_risk_out_of_range(tmp_path: Path, risk: float, message: str) -> None:
    path = write(tmp_path, [{**GOOD, "risk": risk}])
    assert error_of(path) == f"{path}: 0/risk: {message}; {SHAPE}"


@pytest.mark.parametrize("risk", [0, 10, 4.5])
def test_risk_bounds_are_inclusive(tmp_path: Path, risk: float) -> None:
    assert load_candidates(write(tmp_path, [{**GOOD, "risk": risk}]))[0].risk == risk


def test_first_problem_shown_and_the_rest_counted(tmp_path: Path) -> None:
    path = write(tmp_path, [{"title": "x"}])
    assert error_of(path) == f"{path}: 0/kind: Field required; {SHAPE} (+1 more)"


def test_empty_title_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, [{**GOOD, "title": ""}])
    assert error_of(path) == f"{path}: 0/title: String should have at least 1 character; {SHAPE}"


def test_fingerprint_is_short_hex() -> None:
    assert re.fullmatch(r"[0-9a-f]{12}", fingerprint(DIFF))


def test_fingerprint_ignores_headers_and_index_lines() -> None:
    other_headers = (
        DIFF.replace("index 1111111..2222222 100644", "index abcdef0..1234567 100755")
        .replace("@@ -1,4 +1,4 @@", "@@ -10,4 +10,4 @@ section")
        .replace("a/config/server.ini", "a/config/server.ini\t2024-01-01")
    )
    without_git_header = "\n".join(DIFF.splitlines()[2:]) + "\n"
    assert fingerprint(other_headers) == fingerprint(DIFF)
    assert fingerprint(without_git_header) == fingerprint(DIFF)


def test_fingerprint_ignores_trailing_whitespace_on_changed_lines() -> None:
    noisy = DIFF.replace("+workers = 4\n", "+workers = 4   \n").replace("\n", "\r\n")
    assert fingerprint(noisy) == fingerprint(DIFF)


def test_fingerprint_ignores_stripped_blank_context_line() -> None:
    stripped = DIFF.replace("\n \n", "\n\n")
    assert stripped != DIFF
    assert fingerprint(stripped) == fingerprint(DIFF)


def test_renames_and_mode_changes_have_their_own_fingerprints() -> None:
    """They have no hunk: once, every one of them shared the fingerprint of an empty diff, so a
    second rename was dropped as "the same change" (and a ledger verdict applied to both)."""

    def rename(to: str) -> str:
        return (
            "diff --git a/config/a.ini b/config/" + to + "\nsimilarity index 100%\n"
            "rename from config/a.ini\nrename to config/" + to + "\n"
        )

    chmod = "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n"
    prints = {fingerprint(rename("b.ini")), fingerprint(rename("c.ini")), fingerprint(chmod)}
    assert len(prints) == 3 and fingerprint("") not in prints


def test_fingerprint_differs_for_different_changes() -> None:
    assert fingerprint(DIFF.replace("+workers = 4", "+workers = 8")) != fingerprint(DIFF)
    assert fingerprint(DIFF.replace("-workers = 1", "-workers = 2")) != fingerprint(DIFF)
    assert fingerprint(DIFF.replace(" timeout = 30", " timeout = 60")) != fingerprint(DIFF)


def test_fingerprint_keeps_removed_lines_that_start_with_dashes() -> None:
    sql = DIFF.replace("-workers = 1", "--- old comment")
    assert fingerprint(sql) != fingerprint(sql.replace("--- old comment", "--- other comment"))


def test_slugify_basic_and_unique() -> None:
    taken: set[str] = set()
    assert slugify("Use 4 workers", taken) == "use-4-workers"
    assert slugify("Use 4 workers", taken) == "use-4-workers-2"
    assert slugify("use 4 WORKERS!", taken) == "use-4-workers-3"
    assert slugify("Use 4 workers-2", taken) == "use-4-workers-2-2"
    assert taken == {"use-4-workers", "use-4-workers-2", "use-4-workers-3", "use-4-workers-2-2"}


def test_slugify_respects_names_taken_beforehand() -> None:
    taken = {"baseline"}
    assert slugify("Baseline", taken) == "baseline-2"


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Gunicorn: --workers=4 (was 1)", "gunicorn-workers-4-was-1"),
        ("  --Trim!!  ", "trim"),
        ("Café ünïcode", "caf-n-code"),
        ("日本語", "candidate"),
        ("", "candidate"),
        ("---", "candidate"),
    ],
)
def test_slugify_punctuation_and_non_ascii(title: str, slug: str) -> None:
    result = slugify(title, set())
    assert result == slug
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", result)


def test_slugify_empty_titles_stay_unique() -> None:
    taken: set[str] = set()
    assert [slugify("", taken) for _ in range(3)] == ["candidate", "candidate-2", "candidate-3"]


def test_slugify_caps_length_without_trailing_dash() -> None:
    assert slugify("a" * 100, set()) == "a" * 40
    slug = slugify("word " * 20, set())
    assert len(slug) <= 40
    assert not slug.endswith("-")
    assert slug == "word-word-word-word-word-word-word-word"


def test_a_diff_file_is_one_candidate(tmp_path: Path) -> None:
    diff = tmp_path / "threads.diff"
    diff.write_text("diff --git a/x.ini b/x.ini\n--- a/x.ini\n+++ b/x.ini\n@@ -1 +1 @@\n-a\n+b\n")
    [only] = load_candidates(diff)
    assert (only.title, only.kind, only.diff) == ("threads", "incremental", diff.read_text())
    (tmp_path / "empty.patch").write_text("\n")
    with pytest.raises(CandidateError, match="the diff is empty"):
        load_candidates(tmp_path / "empty.patch")


# Hardening: malformed files are errors, never tracebacks.


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[" * 100_000 + "]" * 100_000, "not valid JSON at line 1, column 202: recursion limit"),
        ("[" + "1" * 5000 + "]", "not valid JSON at line 1, column 4303: number out of range"),
        ('[{"title": "t", "kind": "incremental", "diff": "d", "risk": 1e400}]', "a number beyond"),
        ('[{"title": "t", "kind": "incremental", "diff": "d", "risk": NaN}]', "at line 1, col"),
    ],
    ids=["nested-100000-deep", "5000-digits", "1e400", "nan"],
)
def test_hostile_json_is_a_clean_error(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    assert error_of(path).startswith(f"{path}: ")
    assert problem in error_of(path)


def test_a_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(b'[{"title": "\xff"}]')
    assert error_of(path) == f"{path}: not UTF-8 text (byte 13)"


def test_a_device_is_read_only_up_to_the_limit() -> None:
    assert error_of(Path("/dev/zero")) == (
        "/dev/zero: larger than 16 MiB; candidates are diffs, not data"
    )


def test_a_diff_file_with_a_long_name_gets_a_title_within_bounds(tmp_path: Path) -> None:
    path = tmp_path / ("x" * 250 + ".diff")
    path.write_text("diff --git a/x b/x\n")
    [only] = load_candidates(path)
    assert only.title == "x" * 200
