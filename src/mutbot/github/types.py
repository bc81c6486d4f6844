"""Records shared by the GitHub modules (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Trigger = Literal["push", "schedule", "workflow_dispatch", "issue_comment"]
Kind = Literal["incremental", "radical"]


@dataclass(frozen=True)
class Command:
    """A parsed `/mutate` comment."""

    action: Literal["mutate", "help", "revert", "rebench", "ignore"]
    globs: tuple[str, ...] = ()  # restricts the targets (must stay inside the config's targets)
    count: int | None = None  # n=N
    kind: Kind | None = None  # incremental | radical: only that kind of candidate
    setting: str | None = None  # `/mutate ignore setting NAME`: the setting never touched again


@dataclass(frozen=True)
class Tick:
    """A box a maintainer newly ticked on the dashboard issue: what to do, and to what."""

    action: Literal["rebench", "measure", "forget"]
    target: str  # a pull request number (rebench), a fingerprint, or `setting:NAME` (forget)


@dataclass(frozen=True)
class CommentRef:
    """Where a command came from, to react and reply."""

    issue_number: int  # issue or pull request number
    comment_id: int
    author: str
    is_pull_request: bool
    pull_merged: bool | None = None  # unknown from the payload; the API tells


@dataclass(frozen=True)
class Overrides:
    """What the trigger changes in the run (workflow_dispatch inputs, comment arguments)."""

    count: int | None = None
    targets: tuple[str, ...] = ()
    proposer: str | None = None
    kind: Kind | None = None


@dataclass(frozen=True)
class Decision:
    """What `mutbot action` does for one event: run or not, and why (always said in the log)."""

    run: bool
    reason: str
    trigger: str  # the event name, as GitHub gave it
    command: Command | None = None
    comment: CommentRef | None = None
    overrides: Overrides = field(default_factory=Overrides)
    reply: str | None = None  # text to reply with when not running (help, a usage error)
    ticks: tuple[Tick, ...] = ()  # the dashboard's newly ticked boxes (an `issues` edit)
    sender: str | None = None  # who edited the dashboard: their permission decides
    issue_number: int | None = None  # the dashboard issue that was edited


@dataclass(frozen=True)
class PullInfo:
    number: int
    url: str  # html_url
    state: Literal["open", "closed"]
    merged: bool
    head: str  # branch name
    base: str  # base branch name
    head_sha: str
    title: str
    body: str
    labels: tuple[str, ...] = ()
    merge_commit_sha: str | None = None


@dataclass(frozen=True)
class IssueInfo:
    number: int
    url: str  # html_url
    state: Literal["open", "closed"]
    title: str
    body: str
    labels: tuple[str, ...] = ()
