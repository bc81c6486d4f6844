"""The grammar of the pull request commands (`rebench`, `ignore`, `ignore setting NAME`) and the
decision for an edit of the dashboard issue (pure)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutbot.github.dashboard import MARKER
from mutbot.github.events import HELP, CommandError, decide, parse_command
from mutbot.github.types import Command, Tick
from testing.webhooks import payload


@pytest.mark.parametrize(
    ("body", "command"),
    [
        ("/mutate rebench", Command("rebench")),
        ("/mutate ignore\nplease", Command("ignore")),
        (
            "/mutate ignore setting appsettings.server.threads",
            Command("ignore", setting="appsettings.server.threads"),
        ),
        (
            "/mutate ignore setting `gunicorn.workers`",
            Command("ignore", setting="gunicorn.workers"),
        ),
        (
            "/mutate  ignore  setting  dockerfile.ENV   PORT",
            Command("ignore", setting="dockerfile.ENV PORT"),
        ),
    ],
)
def test_commands_parse(body: str, command: Command) -> None:
    assert parse_command(body) == command


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("/mutate rebench now", "`/mutate rebench` takes no arguments; see `/mutate help`"),
        (
            "/mutate ignore this",
            "`/mutate ignore` takes no arguments, or `/mutate ignore setting NAME`",
        ),
        ("/mutate ignore setting", "`/mutate ignore setting NAME` needs the setting's name"),
        ("/mutate ignore setting a<b>", "`a<b>` is not a setting's name"),
        ("/mutate config/*.ini rebench", "`rebench` stands alone: `/mutate rebench`"),
        ("/mutate rebnch", "unknown word `rebnch`: did you mean `rebench`"),
    ],
)
def test_malformed_commands_say_why(body: str, message: str) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace("*", r"\*")):
        parse_command(body)


def test_help_lists_the_new_commands() -> None:
    for word in ("`/mutate rebench`", "`/mutate ignore`", "`/mutate ignore setting NAME`"):
        assert word in HELP


NAME = st.from_regex(
    r"[a-z][a-z0-9_]{0,10}(\.[A-Za-z0-9_]{1,10}){0,3}( [A-Z0-9]{1,5})?", fullmatch=True
)


@settings(max_examples=80, deadline=None)
@given(NAME)
def test_a_settings_name_comes_back_as_written(name: str) -> None:
    assert parse_command(f"/mutate ignore setting {name}") == Command("ignore", setting=name)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_after_ignore_setting_parses_or_says_why(rest: str) -> None:
    try:
        command = parse_command(f"/mutate ignore setting {rest}")
    except CommandError as exc:
        assert "\n" not in str(exc)
        return
    assert command.action == "ignore" and command.setting
    assert len(command.setting) <= 200 and "`" not in command.setting and "<" not in command.setting


# -- the dashboard's edits -----------------------------------------------------------------


def edit(before: str, after: str, sender: str = "maintainer", **changes: Any) -> dict[str, Any]:
    data = payload("issue_comment_created")
    del data["comment"]
    data["action"] = "edited"
    data["issue"]["body"] = after
    data["changes"] = changes or {"body": {"from": before}}
    data["sender"]["login"] = sender
    return data


BOX = f"{MARKER}\n- [ ] <!-- mutbot-tick: rebench 12 --> #12 threads\n"


def test_a_ticked_box_runs_for_its_sender() -> None:
    decision = decide("issues", edit(BOX, BOX.replace("[ ]", "[x]")))
    assert decision.run and decision.ticks == (Tick("rebench", "12"),)
    assert decision.sender == "maintainer"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (edit(BOX, BOX.replace("[ ]", "[x]"), "github-actions[bot]"), "edited by a bot"),
        (edit(BOX, BOX.replace("[ ]", "[x]"), title={"from": "old"}), "the body did not change"),
        (edit(BOX, BOX), "no box newly ticked"),
        (edit("x", "- [x] <!-- mutbot-tick: rebench 12 -->"), "not mutbot's dashboard"),
        ({**edit(BOX, BOX), "action": "opened"}, "only edits of the dashboard issue are read"),
        ({**edit(BOX, BOX), "changes": {"body": {"from": 3}}}, "malformed payload"),
    ],
)
def test_other_edits_run_nothing(data: dict[str, Any], why: str) -> None:
    decision = decide("issues", data)
    assert not decision.run and why in decision.reason
