"""What `mutbot action` does for a GitHub event (pure): run or not, why, and with which
overrides. The `/mutate` comment grammar lives here too, and which boxes an edit of the dashboard
issue newly ticked (`issues` `edited`).

Who may run a command is not decided here: an outsider's `/mutate` (or ticked box) still gives
`run=True` with its `CommentRef` (or sender); the action checks their permission through the API
before acting, and whether a pull request command names a mutbot pull request.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from typing import Any, Literal

from mutbot import globs
from mutbot.github.dashboard import is_dashboard, newly_ticked
from mutbot.github.payload import Malformed as _Malformed
from mutbot.github.payload import at as _at
from mutbot.github.payload import brief as _brief
from mutbot.github.payload import first_line as _first_line
from mutbot.github.payload import is_bot as _is_bot
from mutbot.github.payload import quote as _quote
from mutbot.github.payload import text as _text
from mutbot.github.payload import whole as _whole
from mutbot.github.types import Command, CommentRef, Decision, Kind, Overrides
from mutbot.proposers import PROPOSERS
from mutbot.units import shown

BOT_EMAIL = "mutbot@users.noreply.github.com"
MAX_COMMENT_COUNT = 20  # n=N in a comment
MAX_DISPATCH_COUNT = 50  # the bounds of propose.count in the config
MAX_GLOBS = 20
_KINDS: tuple[Kind, ...] = ("incremental", "radical")
_ALONE = ("help", "revert", "rebench", "ignore")  # words that make the whole command
_ALONE_ACTIONS: dict[str, Literal["help", "revert", "rebench", "ignore"]] = {
    "help": "help",
    "revert": "revert",
    "rebench": "rebench",
    "ignore": "ignore",
}
_ON_PULLS = ("revert", "rebench", "ignore")  # only on a mutbot pull request
_KEYWORDS = (*_ALONE, *_KINDS)
_SETTING = re.compile(
    r"[\w.:/@=\-\[\]]+(?: [\w.:/@=\-\[\]]+)*"
)  # a pack's key: `dockerfile.ENV PORT`
MAX_SETTING = 200
_GLOB = re.compile(r"[\w.\-/*?+]+")
_ZERO_SHA = "0" * 40

HELP = """\
**mutbot commands** — comment on an issue or a pull request; the first line counts.

| command | what it does |
| --- | --- |
| `/mutate` | propose, measure and open pull requests for the configured targets |
| `/mutate GLOB...` | only files matching these globs (within the configured targets), e.g. \
`/mutate Dockerfile config/*.ini` |
| `/mutate n=N` | propose N candidates (1–20) |
| `/mutate incremental` or `/mutate radical` | only that kind of candidate |
| `/mutate help` | this help |
| `/mutate revert` | on a merged mutbot pull request: open a pull request that reverts it |
| `/mutate rebench` | on an open mutbot pull request: measure its change again at the current \
base, then update its figures (and its branch) |
| `/mutate ignore` | on a mutbot pull request: close it; mutbot never proposes that change again |
| `/mutate ignore setting NAME` | on a mutbot pull request: mutbot never changes setting NAME \
again (the names its body lists under what it touches, e.g. `appsettings.server.threads`) |

Options combine: `/mutate config/*.ini n=4 incremental`. A glob is relative to the repository \
root and contains `.`, `/` or `*` (or names a file like `Dockerfile`). Only people with write \
access to the repository can run commands.
"""


class CommandError(ValueError):
    """A malformed `/mutate` command; the message is one line, meant for the commenter."""


def is_command(body: str) -> bool:
    """The comment's first line starts with the word `/mutate` (`/mutated` does not count)."""
    first = _first_line(body)
    return first == "/mutate" or first.startswith(("/mutate ", "/mutate\t"))


def parse_command(body: str) -> Command:
    """`/mutate [GLOB...] [n=N] [incremental|radical] | /mutate help | /mutate revert |
    /mutate rebench | /mutate ignore [setting NAME]`"""
    if not is_command(body):
        raise CommandError("not a /mutate command: the first line must start with /mutate")
    words = [w.strip("`") for w in re.split(r"[\s,]+", _first_line(body))[1:]]
    words = [w for w in words if w]
    if words[:2] == ["ignore", "setting"]:
        return Command(action="ignore", setting=_setting(_first_line(body)))
    if words and words[0] in _ALONE:
        if len(words) > 1:
            more = ", or `/mutate ignore setting NAME`" if words[0] == "ignore" else ""
            raise CommandError(f"`/mutate {words[0]}` takes no arguments{more}; see `/mutate help`")
        return Command(action=_ALONE_ACTIONS[words[0]])
    found: list[str] = []
    count: int | None = None
    kind: Kind | None = None
    for word in words:
        if word.startswith("n="):
            if count is not None:
                raise CommandError("n=N is given twice; see `/mutate help`")
            count = _count(word[2:], MAX_COMMENT_COUNT, CommandError)
        elif word in _KINDS:
            if kind is not None and kind != word:
                raise CommandError("choose one of incremental or radical, not both")
            kind = "incremental" if word == "incremental" else "radical"
        elif word in _ALONE:
            raise CommandError(f"`{word}` stands alone: `/mutate {word}`")
        else:
            found.append(_glob(word, CommandError))
            if len(found) > MAX_GLOBS:
                raise CommandError(f"at most {MAX_GLOBS} globs; see `/mutate help`")
    return Command(action="mutate", globs=tuple(found), count=count, kind=kind)


def _setting(first: str) -> str:
    """NAME in `/mutate ignore setting NAME`: the rest of the line, spaces kept single (a
    Dockerfile's keys hold one, `dockerfile.ENV PORT`)."""
    rest = first.split(None, 3)[3] if len(first.split(None, 3)) > 3 else ""
    name = " ".join(rest.strip().strip("`").split())
    if not name:
        raise CommandError("`/mutate ignore setting NAME` needs the setting's name")
    if len(name) > MAX_SETTING or not _SETTING.fullmatch(name):
        raise CommandError(f"{_quote(name)} is not a setting's name; see `/mutate help`")
    return name


def decide(
    event_name: str,
    payload: object,
    *,
    default_branch: str | None = None,
    bot_branch_prefix: str = "mutbot/",
) -> Decision:
    """Total: a payload of the wrong shape (not an object, a field of the wrong type) gives
    run=False with the reason, so the action logs it and ignores the event."""
    if not isinstance(payload, dict):
        why = f"{_brief(event_name)} event: the payload is not a JSON object; ignored"
        return Decision(False, why, event_name)
    try:
        return _decide(event_name, payload, default_branch, bot_branch_prefix)
    except _Malformed as exc:
        return Decision(
            False, f"{_brief(event_name)} event: malformed payload ({exc}); ignored", event_name
        )


def _decide(
    event_name: str, payload: dict[str, Any], default_branch: str | None, prefix: str
) -> Decision:
    if event_name == "push":
        return _push(payload, default_branch, prefix)
    if event_name == "schedule":
        cron = _text(payload, "schedule")
        return Decision(True, f"scheduled run{f' ({_brief(cron)})' if cron else ''}", event_name)
    if event_name == "workflow_dispatch":
        return _dispatch(payload)
    if event_name == "issue_comment":
        return _comment(payload)
    if event_name == "issues":
        return _issue_edit(payload)
    if event_name == "pull_request":
        head = _text(payload, "pull_request.head.ref")
        if _text(payload, "action") == "closed" and head.startswith(prefix):
            return Decision(
                False, f"{_brief(head)} closed: its outcome goes to the ledger", event_name
            )
        return Decision(False, "pull request events only record mutbot's own", event_name)
    return Decision(False, f"{_brief(event_name)} events do not run mutbot", event_name)


def _push(payload: dict[str, Any], default_branch: str | None, prefix: str) -> Decision:
    ref = _text(payload, "ref")
    default = default_branch or _text(payload, "repository.default_branch")

    def no(why: str) -> Decision:
        return Decision(False, f"push to {_brief(ref) or '(no ref)'}: {why}", "push")

    if _at(payload, "deleted") is True or _text(payload, "after") == _ZERO_SHA:
        return no("the branch was deleted")
    if ref.startswith("refs/tags/"):
        return no("tag pushes are ignored")
    if ref.startswith("refs/heads/" + prefix):
        return no("mutbot's own branches are ignored")
    if not default:
        return no("the payload does not say which branch is the default")
    if ref != f"refs/heads/{default}":
        return no(f"only pushes to the default branch ({_brief(default)}) run mutbot")
    if _merges_mutbot(payload, prefix):
        return no("a merge of mutbot's own pull request is ignored")
    return Decision(True, f"push to {_brief(ref)}, the default branch", "push")


def _merges_mutbot(payload: dict[str, Any], prefix: str) -> bool:
    """A merge commit of a mutbot branch, a squash of a mutbot PR, or a commit mutbot made."""
    emails = {_text(payload, f"head_commit.{who}.email") for who in ("author", "committer")}
    if BOT_EMAIL in emails:
        return True
    first = _first_line(_text(payload, "head_commit.message"))
    merge = rf"Merge pull request #\d+ from [\w.-]+/{re.escape(prefix)}"
    squash = r"mutbot: .* \(#\d+\)$"  # squash merges keep the PR title, which `title()` prefixes
    return bool(re.match(merge, first) or re.match(squash, first))


def _dispatch(payload: dict[str, Any]) -> Decision:
    inputs = payload.get("inputs") or {}
    if not isinstance(inputs, dict):
        return Decision(False, "workflow_dispatch inputs are not a mapping", "workflow_dispatch")
    try:
        overrides = dispatch_overrides(inputs)
    except ValueError as exc:
        return Decision(False, f"workflow_dispatch: {exc}", "workflow_dispatch")
    return Decision(
        True, "manual run (workflow_dispatch)", "workflow_dispatch", overrides=overrides
    )


def dispatch_overrides(inputs: dict[str, Any]) -> Overrides:
    """`count`, `targets` (globs separated by spaces or commas), `proposer` and `kind`; empty
    means "as configured", other inputs belong to the workflow and are left alone."""

    def text(name: str) -> str:
        value = inputs.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**9:
            value = str(value)
        if not isinstance(value, str | None):
            raise ValueError(f"input {name} must be text, got {shown(value)}")
        return "" if value is None else value.strip()

    count = text("count")
    targets = [w for w in re.split(r"[\s,]+", text("targets")) if w]
    proposer = text("proposer")
    kind = text("kind")
    known = proposer in PROPOSERS or (proposer.startswith("file:") and proposer != "file:")
    if proposer and not known:
        names = ", ".join([*PROPOSERS, "file:PATH"])
        raise ValueError(f"unknown proposer {shown(proposer)}; expected one of {names}")
    if kind and kind not in _KINDS:
        raise ValueError(f"kind {shown(kind)} is not one of incremental, radical")
    if len(targets) > MAX_GLOBS:
        raise ValueError(f"at most {MAX_GLOBS} target globs, got {len(targets)}")
    return Overrides(
        count=_count(count, MAX_DISPATCH_COUNT, ValueError) if count else None,
        targets=tuple(_glob(t, ValueError, strict=False) for t in targets),
        proposer=proposer or None,
        kind="incremental" if kind == "incremental" else "radical" if kind else None,
    )


def _comment(payload: dict[str, Any]) -> Decision:
    action = _text(payload, "action")

    def no(
        why: str,
        reply: str | None = None,
        ref: CommentRef | None = None,
        cmd: Command | None = None,
    ) -> Decision:
        return Decision(False, why, "issue_comment", command=cmd, comment=ref, reply=reply)

    if action != "created":
        return no(f"comment {_brief(action)}: only new comments are read")
    if _is_bot(payload, "sender") or _is_bot(payload, "comment.user"):
        return no("comment by a bot: ignored, so mutbot never answers itself")
    body = _text(payload, "comment.body")
    if not is_command(body):
        return no("comment is not a /mutate command")
    pull = _at(payload, "issue.pull_request")
    if pull is not None and not isinstance(pull, dict):
        raise _Malformed("issue.pull_request is not an object")
    ref = CommentRef(
        issue_number=_whole(payload, "issue.number"),
        comment_id=_whole(payload, "comment.id"),
        author=_text(payload, "comment.user.login") or _text(payload, "sender.login"),
        is_pull_request=isinstance(pull, dict),
        pull_merged=_merged(pull),
    )
    where = f"{'pull request' if ref.is_pull_request else 'issue'} #{ref.issue_number}"
    author = _brief(ref.author)
    try:
        command = parse_command(body)
    except CommandError as exc:
        return no(f"/mutate by {author} on {where}: {exc}", f"{exc}\n\n{HELP}", ref)
    if command.action == "help":
        return no(f"/mutate help by {author} on {where}", HELP, ref, command)
    if command.action in _ON_PULLS:
        said = f"/mutate {command.action}{' setting' if command.setting else ''}"
        if not ref.is_pull_request:
            which = "a merged" if command.action == "revert" else "an open"
            text = f"`{said}` works only on {which} mutbot pull request."
            return no(f"{said} by {author} on {where}: not a pull request", text, ref, command)
        return Decision(
            True,
            f"{said} by {author} on {where} (a mutbot PR? the API tells)",
            "issue_comment",
            command=command,
            comment=ref,
        )
    overrides = Overrides(count=command.count, targets=command.globs, kind=command.kind)
    return Decision(
        True,
        f"/mutate by {author} on {where}",
        "issue_comment",
        command=command,
        comment=ref,
        overrides=overrides,
    )


def _issue_edit(payload: dict[str, Any]) -> Decision:
    """An edit of the dashboard issue: the boxes it newly ticked, compared with the body
    before (`changes.body.from`), and who ticked them (their permission is asked later)."""
    action, number = _text(payload, "action"), _whole(payload, "issue.number")

    def no(why: str) -> Decision:
        return Decision(False, f"issue #{number} {_brief(action)}: {why}", "issues")

    if action != "edited":
        return no("only edits of the dashboard issue are read")
    if _is_bot(payload, "sender"):
        return no("edited by a bot: ignored, so mutbot never acts on its own edits")
    body = _text(payload, "issue.body")
    if not is_dashboard(body):
        return no("not mutbot's dashboard")
    if not isinstance(_at(payload, "changes.body"), dict):
        return no("the body did not change: no box was ticked")
    ticks = newly_ticked(_text(payload, "changes.body.from"), body)
    if not ticks:
        return no("no box newly ticked")
    sender = _text(payload, "sender.login")
    return Decision(
        True,
        f"dashboard #{number}: {len(ticks)} boxes ticked by {_brief(sender)}",
        "issues",
        ticks=ticks,
        sender=sender,
        issue_number=number,
    )


def _count(text: str, limit: int, error: Callable[[str], Exception]) -> int:
    if not re.fullmatch(r"\d{1,4}", text) or not 1 <= int(text) <= limit:
        raise error(f"n must be a whole number from 1 to {limit}, got {_quote(text)}")
    return int(text)


def _glob(word: str, error: Callable[[str], Exception], *, strict: bool = True) -> str:
    """A path glob relative to the repository. In a comment (`strict`) a bare word must look
    like a path, so that a typo or a sentence gets a hint rather than a run that matches
    nothing."""
    if len(word) > globs.MAX_GLOB:
        raise error(f"glob {_quote(word)} is too long: at most {globs.MAX_GLOB} characters")
    if word.startswith("/") or ".." in word:
        raise error(f"glob {_quote(word)} must be relative to the repository, without '..'")
    if "=" in word:
        raise error(f"unknown option {_quote(word)}: the only option is n=N; see `/mutate help`")
    if not _GLOB.fullmatch(word):
        raise error(f"{_quote(word)} is not a path glob; see `/mutate help`")
    if strict and not (set(word) & set("./*?") or word.lower().endswith("file")):
        close = _close(word.lower(), _KEYWORDS)
        hint = f"did you mean `{close}`" if close else "a glob contains '.', '/' or '*'"
        raise error(f"unknown word {_quote(word)}: {hint}; see `/mutate help`")
    return word


def _close(word: str, choices: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return found[0] if found else None


def _merged(pull: dict[str, Any] | None) -> bool | None:
    """Newer payloads carry `issue.pull_request.merged_at`; otherwise only the API knows."""
    if pull is not None and "merged_at" in pull:
        return bool(pull["merged_at"])
    return None
