"""Pull requests for proposed candidates: one branch per candidate, updated instead of
duplicated, never reopened once a maintainer closed it, at most `max_prs` open, best first.

A PR is made in this order: commit (in a worktree of the measured commit), push the branch,
open the PR; if opening fails, the branch is deleted again, so a failure leaves nothing half-made
and the next run simply tries again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mutbot.errors import GitError, GitHubError, StageFailure
from mutbot.github.body import pr_body, read_marker, title
from mutbot.github.client import GitHub
from mutbot.github.remote import Remote
from mutbot.github.summary import Published
from mutbot.github.types import PullInfo
from mutbot.results import CandidateResult, RunResult
from mutbot.worktree import Workspace

LABELS: dict[str, tuple[str, str]] = {
    "mutbot": ("5319e7", "Proposed by mutbot after a measured benchmark"),
    "mutbot:incremental": ("c5def5", "mutbot: one focused change"),
    "mutbot:radical": ("fbca04", "mutbot: several changes at once, or a redesign"),
}


@dataclass(frozen=True)
class Target:
    project: Path  # the project folder inside the checkout
    base_branch: str  # where pull requests go
    max_prs: int


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
    gh.ensure_labels(LABELS)
    open_now = {p.head for p in gh.open_pulls("mutbot")}
    workspace = Workspace(target.project, base=run.base_commit)
    try:
        done = []
        for slug in run.ranking:
            candidate = by_slug[slug]
            try:
                outcome = _publish_one(run, candidate, gh, remote, workspace, target, open_now)
            except (GitHubError, GitError, StageFailure) as exc:
                outcome = Published(slug, "failed", None, str(exc))
            log(
                f"{slug}: {outcome.action}{f' {outcome.url}' if outcome.url else ''}"
                f"{f' ({outcome.reason})' if outcome.reason else ''}"
            )
            done.append(outcome)
        return done
    finally:
        workspace.close()


def _publish_one(
    run: RunResult,
    candidate: CandidateResult,
    gh: GitHub,
    remote: Remote,
    workspace: Workspace,
    target: Target,
    open_now: set[str],
) -> Published:
    slug, branch = candidate.slug, branch_name(candidate)
    existing = gh.find_pull(branch)
    if existing and existing.merged:
        return Published(slug, "skipped", existing.url, f"already merged as #{existing.number}")
    if existing and existing.state == "closed":
        return Published(
            slug,
            "skipped",
            existing.url,
            f"#{existing.number} was closed without merge: not reopened",
        )
    prefix = workspace.prefix or "."
    body = pr_body(candidate, run, branch=branch, reproduce=reproduce_command(run, prefix, branch))
    if existing:
        return _update(run, candidate, existing, body, gh, remote, workspace)
    if len(open_now) >= target.max_prs:
        return Published(
            slug,
            "skipped",
            None,
            f"{len(open_now)} mutbot pull requests are open (max-prs {target.max_prs})",
        )
    sha = _commit(run, candidate, workspace)
    remote.push(sha, branch, expect=remote.head(branch))  # a leftover branch without a PR
    try:
        labels = ["mutbot", f"mutbot:{candidate.kind}"]
        pull = gh.create_pull(branch, target.base_branch, title(candidate), body, labels)
    except GitHubError:
        remote.delete(branch)
        raise
    open_now.add(branch)
    return Published(slug, "opened", pull.url, "")


def _update(
    run: RunResult,
    candidate: CandidateResult,
    existing: PullInfo,
    body: str,
    gh: GitHub,
    remote: Remote,
    workspace: Workspace,
) -> Published:
    """Same change measured again: new figures in the body; a new commit if the base moved."""
    measured_on = (read_marker(existing.body) or {}).get("base_commit")
    reason = "figures updated"
    if measured_on != run.base_commit:
        sha = _commit(run, candidate, workspace)
        remote.push(sha, existing.head, expect=existing.head_sha)
        reason = f"rebased onto {run.base_commit[:7]}, figures updated"
    if existing.body == body and measured_on == run.base_commit:
        return Published(candidate.slug, "unchanged", existing.url, "nothing new")
    gh.update_pull(existing.number, title=title(candidate), body=body)
    return Published(candidate.slug, "updated", existing.url, reason)


def _commit(run: RunResult, candidate: CandidateResult, workspace: Workspace) -> str:
    tree = workspace.add(f"pr-{candidate.slug}")
    workspace.apply(tree, candidate.diff)
    message = (
        f"{candidate.title}\n\n{candidate.reason}.\n\n"
        f"Measured by mutbot run {run.run_id} on {run.base_commit[:12]}.\n"
        f"mutbot-fingerprint: {candidate.fingerprint}\n"
    )
    return workspace.commit(tree, message)
