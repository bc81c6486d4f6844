"""Pull requests for proposed candidates: one branch per candidate, updated instead of
duplicated, never reopened once a maintainer closed it (a new one is opened only after the
refusal was forgotten on the dashboard), at most `max_prs` open, best first.

A PR is made in this order: commit (in a worktree of the measured commit), push the branch,
open the PR; if opening fails, the branch is deleted again, so the next run simply tries again;
but only when no pull request uses it: deleting the head of an open one closes it, and the next
run would take that for a maintainer's no. Labels and reviewers come once the PR exists and are
best-effort: a failure is logged, never undoes the PR, and the next run adds missing labels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mutbot import governance
from mutbot.config import Policy
from mutbot.errors import GitError, GitHubError, StageFailure
from mutbot.github.body import commit_message, pr_body, read_marker, title
from mutbot.github.client import GitHub
from mutbot.github.remote import Remote
from mutbot.github.sets import Group, groups
from mutbot.github.summary import Action, Published
from mutbot.github.types import PullInfo
from mutbot.ledger.model import Entry
from mutbot.policy import DiffRules, replay_rules
from mutbot.results import CandidateResult, RunResult
from mutbot.worktree import Workspace

LABELS: dict[str, tuple[str, str]] = {
    "mutbot": ("5319e7", "Proposed by mutbot after a measured benchmark"),
    "mutbot:incremental": ("c5def5", "mutbot: one focused change"),
    "mutbot:radical": ("fbca04", "mutbot: several changes at once, or a redesign"),
}


Record = Callable[[Entry], None]


def _forget(entry: Entry) -> None:
    del entry


@dataclass(frozen=True)
class Target:
    project: Path  # the project folder inside the checkout
    base_branch: str  # where pull requests go
    max_prs: int
    policy: Policy = field(default_factory=Policy)
    recent: tuple[datetime, ...] = ()  # when mutbot opened pull requests (from the ledger)
    codeowners: str = ""  # the repository's CODEOWNERS file, if any
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    record: Record = _forget  # the ledger: written before each step it describes
    # the run's diff rules, applied again to each branch's commit; None: the measured files only
    rules: DiffRules | None = None
    # fingerprints whose refusal a maintainer took back (the dashboard): a closed pull request
    # no longer stops a new one
    forgiven: frozenset[str] = frozenset()


def branch_name(candidate: CandidateResult) -> str:
    return f"mutbot/{candidate.slug}-{candidate.fingerprint[:7]}"


def reproduce_command(run: RunResult, project: str, branch: str) -> str:
    """From a clone: this branch's change as a diff file, measured again on the same commit."""
    base = run.base_commit[:12]
    relative = f" --relative={project}" if project != "." else ""
    return (
        f"git fetch origin {branch} && git checkout {base} && "
        f"git diff{relative} {base} FETCH_HEAD > candidate.diff && "
        f"mutbot run --repo {project} --proposer file:candidate.diff "
        f"--seed {run.seed} --backend {run.backend}"
    )


def publish(
    run: RunResult, gh: GitHub, remote: Remote, target: Target, log: Callable[[str], None]
) -> list[Published]:
    by_slug = {c.slug: c for c in run.candidates}
    try:
        gh.ensure_labels(LABELS)
    except GitHubError as exc:  # labelling a pull request creates a missing label anyway, grey
        log(f"labels not created: {exc}")
    pulls = gh.open_pulls("mutbot", branch_prefix="mutbot/")
    workspace = Workspace(target.project, base=run.base_commit)
    session = _Session(run, gh, remote, workspace, target, {p.head for p in pulls})
    try:
        done = []
        ranked = [by_slug[slug] for slug in run.ranking]
        for group in groups(ranked, pulls, branch_name):
            outcomes = _publish_group(session, group)
            for outcome in outcomes:
                log(
                    f"{outcome.slug}: {outcome.action}{f' {outcome.url}' if outcome.url else ''}"
                    f"{f' ({outcome.reason})' if outcome.reason else ''}"
                )
            done += outcomes
        return done
    finally:
        workspace.close()


@dataclass
class _Session:
    """One publish call's state: what it publishes with, and which branches are open."""

    run: RunResult
    gh: GitHub
    remote: Remote
    workspace: Workspace
    target: Target
    open_now: set[str]
    opened_here: list[str] = field(default_factory=list)


def _publish_group(s: _Session, group: Group) -> list[Published]:
    """The holder's pull request, then each alternative, skipped: listed inside it."""
    holder = group.holder
    if group.waits_for is not None:
        number, why = group.waits_for
        reason = (
            f"waits for #{number} ({why}): two open mutbot pull requests never change the same "
            f"thing; measured again once #{number} is merged or closed"
        )
        first = Published(holder.slug, "skipped", None, reason)
    else:
        try:
            first = _publish_one(s, holder, group)
        except (GitHubError, GitError, StageFailure) as exc:
            first = Published(holder.slug, "failed", None, str(exc))
    where = f"listed in {first.url}" if first.url else f"listed with {holder.title}"
    return [first] + [
        Published(alt.slug, "skipped", None, f"an alternative to {holder.title} ({why}): {where}")
        for alt, why in group.alternatives
    ]


def _publish_one(s: _Session, candidate: CandidateResult, group: Group) -> Published:
    run, gh, remote, workspace, target = s.run, s.gh, s.remote, s.workspace, s.target
    open_now, opened_here = s.open_now, s.opened_here
    slug, branch = candidate.slug, branch_name(candidate)
    existing = gh.find_pull(branch)
    if existing and existing.merged:
        return Published(slug, "skipped", existing.url, f"already merged as #{existing.number}")
    if existing and existing.state == "closed" and candidate.fingerprint not in s.target.forgiven:
        return Published(
            slug,
            "skipped",
            existing.url,
            f"#{existing.number} was closed without merge: not reopened",
        )
    prefix = workspace.prefix or "."
    body = pr_body(
        candidate,
        run,
        branch=branch,
        reproduce=reproduce_command(run, prefix, branch),
        alternatives=group.alternatives,
    )
    if existing and existing.state == "open":
        return _update(run, candidate, existing, body, gh, remote, workspace, target.rules)
    if len(open_now) >= target.max_prs:
        return Published(
            slug,
            "skipped",
            None,
            f"{len(open_now)} mutbot pull requests are open (max-prs {target.max_prs})",
        )
    refusal = _governance(candidate, target, opened_here)
    if refusal:
        target.record(_entry("policy", run, candidate, target, note=refusal))
        return Published(slug, "skipped", None, refusal)
    target.record(_entry("pr-intent", run, candidate, target, branch=branch))
    sha = _commit(run, candidate, workspace, target.rules)
    remote.push(sha, branch, expect=remote.head(branch))  # a leftover branch without a PR
    try:
        pull = gh.create_pull(branch, target.base_branch, title(candidate), body)
    except GitHubError:
        delete_unused(gh, remote, branch)
        raise
    open_now.add(branch)
    opened_here.append(branch)
    target.record(
        _entry(
            "pr-opened",
            run,
            candidate,
            target,
            branch=branch,
            pr_number=pull.number,
            pr_url=pull.url,
            outcome="open",
        )
    )
    _, unlabelled = _label(gh, pull, candidate)
    notes = [unlabelled, _request_reviews(gh, pull, candidate, target)]
    return Published(slug, "opened", pull.url, "; ".join(n for n in notes if n))


def delete_unused(gh: GitHub, remote: Remote, branch: str) -> None:
    """Deletes a pushed branch after its pull request could not be opened, unless a pull
    request (open or closed) uses it, or GitHub cannot say: then the branch stays, and the next
    run finds the pull request or pushes over the leftover branch."""
    try:
        if gh.find_pull(branch) is None:
            remote.delete(branch)
    except GitHubError:
        pass  # the failure being raised is the one to report


def _label(gh: GitHub, pull: PullInfo, candidate: CandidateResult) -> tuple[list[str], str]:
    """Adds the labels `pull` lacks: (the ones it lacked, why they could not be added or "")."""
    have = {name.lower() for name in pull.labels}
    missing = [n for n in ("mutbot", f"mutbot:{candidate.kind}") if n.lower() not in have]
    if not missing:
        return [], ""
    try:
        gh.add_labels(pull, missing)
    except GitHubError as exc:
        return missing, f"labels not added, tried again next run: {exc}"
    return missing, ""


def _governance(candidate: CandidateResult, target: Target, opened_here: list[str]) -> str | None:
    """The policy section's rules for opening a pull request (recorded in the ledger)."""
    policy = target.policy
    refused = governance.kind_allowed(candidate.kind, policy)
    if refused:
        return refused
    if governance.in_quiet_hours(target.now, policy.quiet_hours):
        return f"quiet hours ({policy.quiet_hours} UTC): a later run opens it"
    opened = [*target.recent, *(target.now for _ in opened_here)]
    room = governance.weekly_room(opened, target.now, policy.max_prs_per_week)
    if room is not None and room <= 0:
        return (
            f"{policy.max_prs_per_week} pull requests opened in the last 7 days (max_prs_per_week)"
        )
    return None


def _request_reviews(gh: GitHub, pull: PullInfo, candidate: CandidateResult, target: Target) -> str:
    users, teams = governance.reviewers(
        target.policy, target.codeowners if target.policy.codeowners else "", candidate.files, None
    )
    if not users and not teams:
        return ""
    try:
        gh.request_reviewers(pull.number, users, teams)
    except GitHubError as exc:
        return f"reviewers not requested: {exc}"
    return "review requested from " + ", ".join([*users, *(f"team {t}" for t in teams)])


def _entry(
    event: str, run: RunResult, candidate: CandidateResult, target: Target, **fields: object
) -> Entry:
    return Entry.model_validate(
        {
            "event": event,
            "at": target.now.isoformat(timespec="seconds"),
            "fingerprint": candidate.fingerprint,
            "run_id": run.run_id,
            "title": candidate.title,
            **fields,
        }
    )


def _update(
    run: RunResult,
    candidate: CandidateResult,
    existing: PullInfo,
    body: str,
    gh: GitHub,
    remote: Remote,
    workspace: Workspace,
    rules: DiffRules | None,
) -> Published:
    """Same change measured again: new figures in the body; a new commit if the base moved;
    the labels an earlier run could not add."""
    measured_on = (read_marker(existing.body) or {}).get("base_commit")
    missing, unlabelled = _label(gh, existing, candidate)
    notes = [unlabelled or f"labels {', '.join(missing)} added"] if missing else []
    if existing.body == body and measured_on == run.base_commit:
        action: Action = "updated" if missing and not unlabelled else "unchanged"
        return Published(candidate.slug, action, existing.url, "; ".join(notes) or "nothing new")
    reason = "figures updated"
    if measured_on != run.base_commit:
        sha = _commit(run, candidate, workspace, rules)
        remote.push(sha, existing.head, expect=existing.head_sha)
        reason = f"rebased onto {run.base_commit[:7]}, figures updated"
    gh.update_pull(existing.number, title=title(candidate), body=body)
    return Published(candidate.slug, "updated", existing.url, "; ".join([reason, *notes]))


def _commit(
    run: RunResult, candidate: CandidateResult, workspace: Workspace, rules: DiffRules | None
) -> str:
    tree = workspace.add(f"pr-{candidate.slug}")
    workspace.apply(tree, candidate.diff, rules or replay_rules(candidate.files))
    return workspace.commit(tree, commit_message(candidate, run))
