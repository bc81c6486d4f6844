"""One pull request per conflict set, against the fake GitHub and a real bare remote: changes
to the same setting or lines are alternatives, listed inside one pull request."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from mutbot.conflicts import footprint, from_data, to_data
from mutbot.github.body import read_marker
from testing.defusing import live, outside_fences
from testing.github_world import World, proposed, publish_now, results

THREADS = "Serve requests from 8 worker threads"
CACHE = "Enable a 1024-entry price cache"
ALL = "Threads, cache and quiet logs together"
ROUND = "Round prices to 3 decimals"


def slug(title: str) -> str:
    return proposed(title).slug


def test_overlapping_winners_make_one_pr_that_lists_the_others(world: World) -> None:
    # the bundle measured best; the single fixes change lines it changes, rounding does not
    run = results(
        world.head(),
        proposed(ALL, 0.2),
        proposed(THREADS, 0.3),
        proposed(CACHE, 0.5),
        proposed(ROUND, 0.9),
    )
    done = publish_now(world, run, max_prs=5)
    assert [(s, a) for s, a, _ in done] == [
        (slug(ALL), "opened"),
        (slug(THREADS), "skipped"),
        (slug(CACHE), "skipped"),
        (slug(ROUND), "opened"),
    ]
    url = world.fake.pull(1)["html_url"]
    assert done[1][2] == (
        f"an alternative to {ALL} (both change config/server.ini near line 3): listed in {url}"
    )
    body = world.fake.pull(1)["body"]
    section = body.split("## Alternatives", 1)[1].split("## Verdict", 1)[0]
    listed = [line for line in section.splitlines() if line.startswith("- ")]
    assert len(listed) == 2 and THREADS in listed[0] and CACHE in listed[1]
    assert "p95 latency" in listed[0] and "(CI " in listed[0] and "propose" in listed[0]
    assert "## Alternatives" not in world.fake.pull(2)["body"]
    assert len(world.fake.calls("POST", r".*/pulls$")) == 2


def test_a_change_waits_for_an_open_pr_it_conflicts_with(world: World) -> None:
    publish_now(world, results(world.head(), proposed(THREADS, 0.3)))
    marker = read_marker(world.fake.pull(1)["body"])
    assert marker is not None and marker["touches"]["spans"] == {"config/server.ini": [[3, 3]]}
    # a later run measures only the bundle: it changes the open pull request's line
    done = publish_now(world, results(world.head(), proposed(ALL, 0.2), proposed(ROUND, 0.9)))
    assert done[0] == (
        slug(ALL),
        "skipped",
        "waits for #1 (both change config/server.ini near line 3): two open mutbot pull "
        "requests never change the same thing; measured again once #1 is merged or closed",
    )
    assert done[1][:2] == (slug(ROUND), "opened")
    world.fake.close_pull(1)  # the maintainer says no: the bundle may open now
    again = publish_now(world, results(world.head(), proposed(ALL, 0.2)))
    assert again[0][:2] == (slug(ALL), "opened")


def test_an_open_member_keeps_the_set_and_says_a_better_one_was_measured(world: World) -> None:
    publish_now(world, results(world.head(), proposed(THREADS, 0.3)))
    done = publish_now(world, results(world.head(), proposed(ALL, 0.2), proposed(THREADS, 0.3)))
    assert [(s, a) for s, a, _ in done] == [(slug(THREADS), "updated"), (slug(ALL), "skipped")]
    body = world.fake.pull(1)["body"]
    assert ALL in body.split("## Alternatives", 1)[1]
    assert "it measured better than this one, but this pull request was open first" in body
    assert len(world.fake.calls("POST", r".*/pulls$")) == 1


def test_an_old_marker_without_touches_blocks_nothing(world: World) -> None:
    publish_now(world, results(world.head(), proposed(THREADS, 0.3)))
    old = world.fake.pull(1)["body"].replace('"touches"', '"other"')
    with world.client() as gh:
        gh.update_pull(1, body=old)
    done = publish_now(world, results(world.head(), proposed(ALL, 0.2)))
    assert done[0][:2] == (slug(ALL), "opened")


def test_a_footprint_survives_the_marker() -> None:
    diff = proposed(ALL).diff
    print_ = footprint(diff, ["appsettings.server.threads"])
    assert from_data(json.loads(json.dumps(to_data(print_)))) == print_


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=12,
    )
)
def test_any_marker_text_reads_as_a_footprint_or_none(data: object) -> None:
    from_data(data)  # never raises, whatever a body holds
    wrapped = {"settings": [], "files": [], "spans": {"f": data}}
    read = from_data(wrapped)
    assert read is None or set(read.spans) == {"f"}


def test_an_alternatives_title_is_inert_in_the_body(world: World) -> None:
    hostile = proposed(THREADS, 0.3).model_copy(
        update={"title": "@octocat see #1 [x](https://evil.example) <b>/mutate revert</b>"}
    )
    publish_now(world, results(world.head(), proposed(ALL, 0.2), hostile))
    section = world.fake.pull(1)["body"].split("## Alternatives", 1)[1].split("## Verdict")[0]
    assert "octocat" in section and live(outside_fences(section)) == []
