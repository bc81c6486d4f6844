"""`mutbot action` for what a maintainer asks of mutbot's own things: `/mutate rebench` and
`/mutate ignore [setting NAME]` on a mutbot pull request, and the dashboard's ticked boxes.
Who asked was checked before (write access); this dispatches, replies and reacts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mutbot.errors import GitHubError, MutbotError
from mutbot.github.client import GitHub
from mutbot.github.commands import (
    Asked,
    Mutate,
    NotMutbotPull,
    act_on,
    ignore,
    ignore_setting,
    rebench,
)
from mutbot.github.summary import cell
from mutbot.github.types import Decision
from mutbot.ledger.store import Ledger
from mutbot.packs.survey import settings
from mutbot.report import defuse
from mutbot.run.options import RunOptions, load_inputs
from mutbot.run.propose import pack_view

Log = Callable[[str], None]
ON_PULLS = ("rebench", "ignore")


def handles(decision: Decision) -> bool:
    command = decision.command
    return bool(decision.ticks) or (command is not None and command.action in ON_PULLS)


def answer(
    project: Path,
    config: Path | None,
    decision: Decision,
    gh: GitHub,
    ledger: Ledger | None,
    mutate: Mutate,
    log: Log,
) -> str:
    """What was done, in a few words for the step summary."""
    comment, command = decision.comment, decision.command
    if ledger is None:
        said = "dry run: nothing is recorded or changed"
        if comment is not None:
            gh.comment(comment.issue_number, f"mutbot runs as a {said}.")
        return said
    if decision.ticks:
        who = Asked(gh, ledger, f"{defuse(decision.sender or '?')} on the dashboard")
        for tick in decision.ticks:
            act_on(who, tick, mutate, log)
        count = len(decision.ticks)
        return f"{count} ticked box{'es' if count != 1 else ''} of the dashboard acted on"
    assert comment is not None and command is not None
    number = comment.issue_number
    said = f"/mutate {command.action}{' setting' if command.setting else ''}"
    who = Asked(gh, ledger, f"{defuse(comment.author)} with `{said}`")
    try:
        if command.action == "rebench":
            reply = rebench(who, number, mutate)
        elif command.setting is not None:
            reply = ignore_setting(who, number, command.setting, known_settings(project, config))
        else:
            reply = ignore(who, number)
    except NotMutbotPull as exc:
        reply = str(exc)
    except MutbotError as exc:
        _react(gh, comment.comment_id, "confused", log)
        gh.comment(number, f"mutbot could not finish: {cell(str(exc))}")
        raise
    if reply:
        gh.comment(number, reply)
    _react(gh, comment.comment_id, "rocket", log)
    return f"{said} on #{number}"


def known_settings(project: Path, config: Path | None) -> frozenset[str]:
    """The settings the packs read in the checkout, by the names they give them; none when the
    config cannot be read (the pull request's own list still counts)."""
    try:
        loaded, _ = load_inputs(RunOptions(project=project, config=config))
        return frozenset(settings(pack_view(project, loaded, (), None)))
    except MutbotError:
        return frozenset()


def _react(gh: GitHub, comment_id: int, content: str, log: Log) -> None:
    try:
        gh.react(comment_id, content)
    except GitHubError as exc:
        log(f"mutbot: no {content} reaction: {exc}")
