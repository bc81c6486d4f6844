"""`/mutate revert`: a pull request that reverts a merged mutbot pull request. Humans merge it."""

from __future__ import annotations

import os
from pathlib import Path

import git

from mutbot.errors import GitHubError
from mutbot.github.client import GitHub
from mutbot.github.remote import Remote
from mutbot.github.summary import Published
from mutbot.worktree import BOT_IDENTITY, Workspace


class NotRevertible(GitHubError):
    """The pull request is not a merged mutbot pull request."""


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
    base = remote.repo.rev_parse("FETCH_HEAD").hexsha
    workspace = Workspace(Path(remote.repo.working_tree_dir or "."), base=base)
    try:
        tree = git.Repo(workspace.add("revert"), search_parent_directories=True)
        merge = tree.commit(pull.merge_commit_sha)
        args = ["--no-edit", *(["-m", "1"] if len(merge.parents) > 1 else []), merge.hexsha]
        try:
            tree.git.revert(*args, env={**os.environ, **BOT_IDENTITY})
        except git.GitCommandError as exc:
            raise GitHubError(
                f"git revert of {merge.hexsha[:7]} does not apply cleanly on {base_branch}; "
                "revert it by hand"
            ) from exc
        sha = tree.head.commit.hexsha
    finally:
        workspace.close()
    remote.push(sha, branch, expect=remote.head(branch))
    body = (
        f"Reverts #{number} ({pull.title}), merge commit `{pull.merge_commit_sha}`.\n\n{why}\n\n"
        "mutbot does not merge this: review and merge it if the change should go. Closing it "
        "keeps the change.\n"
    )
    try:
        opened = gh.create_pull(
            branch, base_branch, f"Revert #{number}: {pull.title}"[:256], body, ["mutbot"]
        )
    except GitHubError:
        remote.delete(branch)
        raise
    return Published(f"revert-{number}", "opened", opened.url, "")
