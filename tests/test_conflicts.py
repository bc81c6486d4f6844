"""Which changes are alternatives (pure): same setting, or lines git cannot merge apart."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mutbot.conflicts import Footprint, conflict, conflict_sets, footprint
from mutbot.run.execute import write_outputs
from testing.records import candidate, run
from testing.repos import EXAMPLE

BY_TITLE = {c["title"]: c["diff"] for c in json.loads((EXAMPLE / "candidates.json").read_text())}
THREADS = footprint(BY_TITLE["Serve requests from 8 worker threads"])
CACHE = footprint(BY_TITLE["Enable a 1024-entry price cache"])
QUIET = footprint(BY_TITLE["Turn off per-request logging"])
ALL = footprint(BY_TITLE["Threads, cache and quiet logs together"])


def test_a_bundle_conflicts_with_each_fix_it_contains() -> None:
    assert conflict(ALL, THREADS) == "both change config/server.ini near line 3"
    assert conflict(CACHE, ALL) == "both change config/server.ini near line 5"


def test_changes_with_an_unchanged_line_between_merge_apart() -> None:
    # git merges line 3 and line 5 apart (line 4 between stays): both may be open at once
    assert conflict(THREADS, CACHE) is None
    assert conflict(CACHE, QUIET) is None


def test_lines_next_to_each_other_conflict() -> None:
    a = footprint(_diff(3, "threads = 1", "threads = 8"))
    b = footprint(_diff(4, "# comment", "# another"))
    assert conflict(a, b) == "both change f.ini near line 4"


def test_an_insertion_conflicts_with_a_change_next_to_it_only() -> None:
    inserted = footprint(
        "--- a/f.ini\n+++ b/f.ini\n@@ -2,2 +2,3 @@\n two\n+new\n three\n"
    )  # between old lines 2 and 3
    assert inserted.spans["f.ini"] == ((2.5, 2.5),)
    assert conflict(inserted, footprint(_diff(3, "three", "3"))) is not None
    assert conflict(inserted, footprint(_diff(5, "five", "5"))) is None


def test_the_same_setting_conflicts_whatever_the_lines() -> None:
    a = Footprint(settings=frozenset({"gunicorn.workers"}), spans={"Dockerfile": ((9.0, 9.0),)})
    b = Footprint(settings=frozenset({"gunicorn.workers"}), spans={"boot.sh": ((4.0, 4.0),)})
    assert conflict(a, b) == "both change gunicorn.workers"


def test_a_new_or_unreadable_file_conflicts_with_anything_in_it() -> None:
    created = footprint("--- /dev/null\n+++ b/gunicorn.conf.py\n@@ -0,0 +1 @@\n+workers = 4\n")
    assert conflict(created, footprint(_diff(1, "x", "y", path="gunicorn.conf.py"))) is not None
    unreadable = footprint("diff --git a/f.ini b/f.ini\n+++ b/f.ini\nnot a hunk\n")
    assert unreadable.spans == {"f.ini": ((0.0, float("inf")),)}
    assert conflict(unreadable, THREADS) is None
    assert conflict(unreadable, footprint(_diff(9, "a", "b"))) == "both change f.ini"
    cut = footprint("--- a/f.ini\n+++ b/f.ini\n@@ -1,5 +1,5 @@\n-x\n")  # unidiff refuses it
    assert cut.files == frozenset({"f.ini"})
    assert conflict(cut, footprint(_diff(30, "a", "b"))) == "both change f.ini"


def test_sets_are_transitive_and_keep_the_order_given() -> None:
    items = [("threads", THREADS), ("all", ALL), ("cache", CACHE), ("round", _round())]
    assert conflict_sets(items) == [["threads", "all", "cache"], ["round"]]
    assert conflict_sets([]) == []


def _round() -> Footprint:
    return footprint(BY_TITLE["Round prices to 3 decimals"])


def _diff(line: int, old: str, new: str, path: str = "f.ini") -> str:
    return f"--- a/{path}\n+++ b/{path}\n@@ -{line} +{line} @@\n-{old}\n+{new}\n"


spans = st.lists(st.integers(1, 40), min_size=1, max_size=4).map(
    lambda xs: Footprint(spans={"f": tuple((float(x), float(x)) for x in xs)})
)


@given(st.lists(spans, max_size=7))
def test_conflicts_are_symmetric_and_sets_partition(prints: list[Footprint]) -> None:
    for a in prints:
        for b in prints:
            assert (conflict(a, b) is None) == (conflict(b, a) is None)
    items = [(str(i), p) for i, p in enumerate(prints)]
    sets = conflict_sets(items)
    flat = [name for group in sets for name in group]
    assert sorted(flat, key=int) == [name for name, _ in items]
    for group in sets:  # within a set, in the order given; across sets, nothing conflicts
        assert group == sorted(group, key=int)
    for one in sets:
        for other in sets:
            if one is not other:
                assert all(
                    conflict(prints[int(x)], prints[int(y)]) is None for x in one for y in other
                )


def test_each_local_preview_lists_the_others_of_its_set(tmp_path: Path) -> None:
    bundle = candidate(
        "all", title="All", factor=0.2, diff=BY_TITLE["Threads, cache and quiet logs together"]
    )
    single = candidate(
        "threads",
        title="Threads",
        factor=0.3,
        diff=BY_TITLE["Serve requests from 8 worker threads"],
    )
    apart = candidate(
        "round", title="Round", factor=0.9, diff=BY_TITLE["Round prices to 3 decimals"]
    )
    write_outputs(run([bundle, single, apart], ranking=["all", "threads", "round"]), tmp_path)
    first, second = ((tmp_path / f"pr-{s}.md").read_text() for s in ("all", "threads"))
    assert "## Alternatives" in first and "- Threads: p95 latency -70.0%" in first
    assert "both change config/server.ini near line 3" in first
    assert "- All: p95 latency -80.0%" in second
    assert "## Alternatives" not in (tmp_path / "pr-round.md").read_text()
