"""The dashboard issue on GitHub: found by its label and hidden marker (the list API, never a
title search: search can be down or lag behind), created once, edited in place. What it says is
`mutbot.github.dashboard`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mutbot.errors import GitHubError
from mutbot.github.body import read_marker
from mutbot.github.client import GitHub
from mutbot.github.dashboard import LABEL, LABEL_LOOK, TITLE, is_dashboard, render
from mutbot.github.types import IssueInfo
from mutbot.ledger.model import Entry

Log = Callable[[str], None]


def find(gh: GitHub) -> IssueInfo | None:
    """The dashboard: an issue with the label and the marker, the oldest open one (else the
    oldest closed one: a maintainer who closed it keeps it closed, and gets no second one)."""
    found = [i for i in gh.issues_labelled(LABEL) if is_dashboard(i.body)]
    return next((i for i in found if i.state == "open"), found[0] if found else None)


def refresh(gh: GitHub, entries: Sequence[Entry], log: Log) -> IssueInfo | None:
    """Writes the dashboard from the ledger and the open mutbot pull requests. A failure is
    logged, never fails the run: the next run writes it again."""
    try:
        pulls = [p for p in gh.open_pulls("mutbot", branch_prefix="mutbot/") if _proposal(p.body)]
        body = render(entries, pulls)
        issue = find(gh)
        if issue is None:
            try:
                gh.ensure_labels({LABEL: LABEL_LOOK})
            except GitHubError as exc:  # labelling creates a missing label anyway, grey
                log(f"dashboard label not created: {exc}")
            issue = gh.create_issue(TITLE, body, [LABEL])
            log(f"dashboard: opened {issue.url}")
        elif issue.body != body:
            issue = gh.edit_issue(issue.number, body=body)
            log(f"dashboard: updated {issue.url}")
        else:
            log(f"dashboard: {issue.url} is up to date")
        return issue
    except GitHubError as exc:
        log(f"dashboard not updated: {exc}")
        return None


def _proposal(body: str) -> bool:
    """A pull request mutbot proposed (a revert pull request carries no marker)."""
    return isinstance((read_marker(body) or {}).get("fingerprint"), str)
