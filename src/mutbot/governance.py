"""The `policy:` rules about pull requests (pure): which kinds of candidate may be opened, when
(quiet hours, a weekly budget), and whom to ask for review (listed reviewers and the
CODEOWNERS of the changed files, read as GitHub reads them)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal

from mutbot.config import Policy

WEEK = timedelta(days=7)


def kind_allowed(kind: str, policy: Policy) -> str | None:
    """None when `policy.allowed_kinds` admits the kind, else why not."""
    if kind in policy.allowed_kinds:
        return None
    allowed = ", ".join(policy.allowed_kinds)
    return f"a {kind} candidate; policy.allowed_kinds allows only {allowed}"


def _utc(moment: datetime) -> datetime:
    """Aware datetimes converted to UTC; naive ones taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def in_quiet_hours(now: datetime, quiet: str | None) -> bool:
    """Whether `now` falls in "HH:MM-HH:MM" (UTC; the start included, the end not). A window
    whose start is after its end spans midnight; equal start and end is an empty window."""
    if not quiet:
        return False
    start, end = (time.fromisoformat(part) for part in quiet.split("-"))
    clock = _utc(now).time().replace(tzinfo=None)
    if start <= end:
        return start <= clock < end
    return clock >= start or clock < end


def weekly_room(opened_at: Iterable[datetime], now: datetime, limit: int | None) -> int | None:
    """How many more pull requests may be opened: `limit` minus those opened in the 7 days
    before `now` (one opened exactly 7 days ago no longer counts; clock skew into the future
    counts). None: no limit."""
    if limit is None:
        return None
    since = _utc(now) - WEEK
    recent = sum(_utc(moment) > since for moment in opened_at)
    return max(0, limit - recent)


# -- CODEOWNERS --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    targets: Literal["folders", "files", "both"]  # what the pattern is tried against
    owners: tuple[str, ...]

    def matches(self, path: str) -> bool:
        """Matching a folder above a file owns the file (everything inside the folder)."""
        parts = path.strip("/").split("/")
        tried = ["/".join(parts[:i]) for i in range(1, len(parts))]
        if self.targets == "files":
            tried = []
        if self.targets != "folders":
            tried.append("/".join(parts))
        return any(self.pattern.fullmatch(t) for t in tried)


_TOKEN = re.compile(r"(?:\\.|\S)+")  # "\ " escapes a space in a path
_OWNER = re.compile(r"@[\w.-]+(?:/[\w.-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+")


def _rule(pattern: str, owners: tuple[str, ...]) -> _Rule:
    """gitignore-style: a leading or inner `/` anchors the pattern at the root, else it
    matches at any depth; a trailing `/` matches folders only; `*` and `?` stay within one
    folder, `**` crosses folders. GitHub's exception: `dir/*` owns the files directly in
    `dir`, not those further down."""
    body = pattern.strip("/")
    pieces = body.split("/")
    regex = ""
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        if piece == "**":
            regex += ".*" if last else "(?:.*/)?"
            continue
        text = re.escape(piece).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        regex += text.replace(r"\?", "[^/]") + ("" if last else "/")
    if "/" not in pattern.rstrip("/"):
        regex = "(?:.*/)?" + regex
    targets: Literal["folders", "files", "both"] = "both"
    if pattern.endswith("/"):
        targets = "folders"
    elif pattern.endswith("/*"):
        targets = "files"
    return _Rule(re.compile(regex), targets, owners)


def _rules(text: str) -> list[_Rule]:
    rules = []
    for line in text.splitlines():
        tokens = _TOKEN.findall(line)
        if not tokens or tokens[0].startswith("#"):
            continue
        owners: list[str] = []
        for token in tokens[1:]:
            if token.startswith("#"):  # an inline comment
                break
            if _OWNER.fullmatch(token):
                owners.append(token)
        rules.append(_rule(tokens[0].replace("\\ ", " "), tuple(owners)))
    return rules


def codeowners(text: str, files: Sequence[str]) -> list[str]:
    """The owners of the changed files as written in the CODEOWNERS `text` (`@user`,
    `@org/team`, an email), each once, in file order. For each file the last matching line
    decides; a matching line with no owners leaves the file without any."""
    rules = _rules(text)
    found: dict[str, None] = {}
    for path in files:
        rule = next((r for r in reversed(rules) if r.matches(path)), None)
        if rule is not None:
            found.update(dict.fromkeys(rule.owners))
    return list(found)


def reviewers(
    policy: Policy, codeowners_text: str, files: Sequence[str], author: str | None
) -> tuple[list[str], list[str]]:
    """(users, team slugs) to request review from: `policy.reviewers`, then the CODEOWNERS of
    the files (when `policy.codeowners`), without `@`, never the pull request's author. Email
    owners are left out: GitHub requests reviews by login only."""
    named = list(policy.reviewers)
    if policy.codeowners and codeowners_text:
        named += codeowners(codeowners_text, files)
    users: dict[str, str] = {}  # lower case → as written
    teams: dict[str, str] = {}
    for name in named:
        name = name.strip().removeprefix("@")
        if not name or "@" in name:
            continue
        if "/" in name:
            slug = name.rsplit("/", 1)[1]
            teams.setdefault(slug.lower(), slug)
        elif author is None or name.lower() != author.lower():
            users.setdefault(name.lower(), name)
    return list(users.values()), list(teams.values())
