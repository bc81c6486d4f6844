"""`/mutate revert`: a pull request that reverts a merged mutbot pull request. Humans merge it."""

from __future__ import annotations

import os
from pathlib import Path

import git

from mutbot.errors import GitHubError
from mutbot.github.client import GitHub
from mutbot.github.publish import delete_unused
from mutbot.github.remote import Remote
from mutbot.github.summary import Published
from mutbot.report import defuse, one_line
from mutbot.worktree import BOT_IDENTITY, Workspace


class NotRevertible(GitHubError):
    """The pull request is not a merged mutbot pull request."""


def revert_message(number: int, sha: str, title: str) -> str:
    """The revert commit: plain text, with no live reference or mention (see `defuse`)."""
    return (
        f"Revert mutbot pull request {number}\n\n"
        f"This reverts commit {sha}: {defuse(one_line(title), markdown=False)}\n"
    )


def open_revert(gh: GitHub, remote: Remote, number: int, base_branch: str, why: str) -> Published:
    """`why`: markdown saying who asked, or the production evidence table."""
    pull = gh.pull(number)
    if not pull.head.startswith("mutbot/") or not pull.merged or not pull.merge_commit_sha:
        raise NotRevertible(
            f"#{number} is not a merged mutbot pull request; `/mutate revert` works only on one"
        )
    branch = f"mutbot/revert-{number}"
    existing = gh.find_pull(branch)
    if existing and existing.state == "open":
        return Published(f"revert-{number}", "unchanged", existing.url, "already open")
    remote.fetch(f"refs/heads/{base_branch}")
    base = remote.commit_of("FETCH_HEAD")
    workspace = Workspace(Path(remote.repo.working_tree_dir or "."), base=base)
    try:
        path = workspace.add("revert")
        with git.Repo(path, search_parent_directories=True) as tree:
            merge = tree.commit(pull.merge_commit_sha)
            args = ["--no-commit", *(["-m", "1"] if len(merge.parents) > 1 else []), merge.hexsha]
            try:
                tree.git.revert(*args, env={**os.environ, **BOT_IDENTITY})
            except git.GitCommandError as exc:
                raise GitHubError(
                    f"git revert of {merge.hexsha[:7]} does not apply cleanly on {base_branch}; "
                    "revert it by hand"
                ) from exc
        # git's own message would quote the merged commit's subject, which anyone could write
        sha = workspace.commit(path, revert_message(number, merge.hexsha, pull.title))
    finally:
        workspace.close()
    remote.push(sha, branch, expect=remote.head(branch))
    body = (
        f"Reverts #{number} ({defuse(one_line(pull.title))}), merge commit "
        f"`{pull.merge_commit_sha}`.\n\n{why}\n\n"
        "mutbot does not merge this: review and merge it if the change should go. Closing it "
        "keeps the change.\n"
    )
    title = f"Revert #{number}: {defuse(one_line(pull.title), markdown=False)}"[:256]
    try:
        opened = gh.create_pull(branch, base_branch, title, body)
    except GitHubError:
        delete_unused(gh, remote, branch)
        raise
    try:
        gh.add_labels(opened, ["mutbot"])
    except GitHubError as exc:  # the revert pull request exists: that is what matters
        return Published(f"revert-{number}", "opened", opened.url, f"label not added: {exc}")
    return Published(f"revert-{number}", "opened", opened.url, "")
