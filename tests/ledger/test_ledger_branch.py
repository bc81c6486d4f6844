import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mutbot.errors import GitError, GitHubError
from mutbot.ledger.branch import BranchLedger
from testing.ledger_writer import entry
from testing.repos import git, make_repo

REF = "refs/heads/mutbot/ledger"


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository holding the example's main branch."""
    bare = tmp_path / "remote.git"
    subprocess.run(
        ["git", "init", "--quiet", "--bare", "--initial-branch=main", str(bare)], check=True
    )
    source = make_repo(tmp_path / "source")
    git(source, "push", "--quiet", str(bare), "main")
    return bare


def clone(remote: Path, dest: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(remote), str(dest)], check=True)
    return dest


def state(checkout: Path) -> tuple[str, ...]:
    """Everything about the checkout a ledger append must not change."""
    return (
        git(checkout, "rev-parse", "HEAD"),
        git(checkout, "symbolic-ref", "HEAD"),
        git(checkout, "status", "--porcelain", "--untracked-files=all"),
        git(checkout, "diff"),
        git(checkout, "diff", "--cached"),
        git(checkout, "for-each-ref", "refs/heads"),
    )


def test_the_first_append_creates_the_branch_and_leaves_the_checkout_alone(
    remote: Path, tmp_path: Path
) -> None:
    checkout = clone(remote, tmp_path / "checkout")
    (checkout / "README.md").write_text("edited, not staged\n")
    (checkout / "new.txt").write_text("staged\n")
    git(checkout, "add", "new.txt")
    before = state(checkout)
    ledger = BranchLedger(checkout)

    assert ledger.read() == []  # no branch yet: an empty ledger
    ledger.append([entry("one", 0), entry("one", 1)])

    assert ledger.read() == [entry("one", 0), entry("one", 1)]
    assert state(checkout) == before
    head = git(remote, "rev-parse", REF).strip()
    assert git(remote, "log", "-1", "--format=%an <%ae> %s", head).strip() == (
        "mutbot <mutbot@users.noreply.github.com> mutbot ledger: 2 entries"
    )
    assert git(remote, "ls-tree", "--name-only", head).split() == ["ledger.jsonl"]
    assert git(remote, "rev-list", "--count", head).strip() == "1"  # a root of its own


def test_appends_grow_the_file_on_top_of_the_old_head(remote: Path, tmp_path: Path) -> None:
    checkout = clone(remote, tmp_path / "checkout")
    ledger = BranchLedger(checkout)
    ledger.append([entry("one", 0)])
    old_head = git(remote, "rev-parse", REF).strip()
    old_file = git(remote, "show", f"{old_head}:ledger.jsonl")

    # another machine, another clone, reads and appends
    other = BranchLedger(clone(remote, tmp_path / "other"))
    assert other.read() == [entry("one", 0)]
    other.append([entry("two", 1)])

    new_head = git(remote, "rev-parse", REF).strip()
    git(remote, "merge-base", "--is-ancestor", old_head, new_head)  # raises if not
    assert git(remote, "show", f"{new_head}:ledger.jsonl").startswith(old_file)
    assert ledger.read() == [entry("one", 0), entry("two", 1)]


def test_two_concurrent_appenders_lose_nothing_and_never_rewrite_history(
    remote: Path, tmp_path: Path
) -> None:
    ledgers = {tag: BranchLedger(clone(remote, tmp_path / tag)) for tag in ("a", "b")}
    heads: list[str] = []

    def append_all(tag: str) -> None:
        for index in range(8):
            ledgers[tag].append([entry(tag, index)])
            heads.append(git(remote, "rev-parse", REF).strip())

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(append_all, ledgers))

    entries = ledgers["a"].read()
    for tag in ledgers:
        assert [e.note for e in entries if e.run_id == tag] == [str(i) for i in range(8)]
    assert len(entries) == 16
    final = git(remote, "rev-parse", REF).strip()
    assert git(remote, "rev-list", "--count", final).strip() == "16"  # one commit per append
    for head in heads:  # every head anyone saw is still in the branch's history
        git(remote, "merge-base", "--is-ancestor", head, final)


def test_other_files_on_the_branch_and_damaged_lines_are_kept(remote: Path, tmp_path: Path) -> None:
    checkout = clone(remote, tmp_path / "checkout")
    git(checkout, "checkout", "--quiet", "--orphan", "mutbot/ledger")
    git(checkout, "rm", "-r", "--quiet", "--cached", ".")
    (checkout / "NOTES.md").write_text("what this branch is\n")
    (checkout / "ledger.jsonl").write_text(entry("hand", 0).line() + "\n{cut sho")
    git(checkout, "add", "NOTES.md", "ledger.jsonl")
    git(checkout, "commit", "--quiet", "-m", "by hand")
    git(checkout, "push", "--quiet", "origin", "mutbot/ledger")

    ledger = BranchLedger(clone(remote, tmp_path / "fresh"))
    assert ledger.read() == [entry("hand", 0)]
    assert ledger.damaged == 1
    ledger.append([entry("bot", 1)])

    assert ledger.read() == [entry("hand", 0), entry("bot", 1)]
    assert ledger.damaged == 1
    assert git(remote, "show", f"{REF}:NOTES.md") == "what this branch is\n"


def test_a_refused_push_is_a_one_line_error_without_retrying(remote: Path, tmp_path: Path) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch' >&2\nexit 1\n")
    hook.chmod(0o755)
    ledger = BranchLedger(clone(remote, tmp_path / "checkout"))

    with pytest.raises(GitHubError, match=r"git push of origin:mutbot/ledger:ledger.jsonl failed"):
        ledger.append([entry("one", 0)])


def test_a_branch_that_keeps_moving_gives_up_after_ten_tries(
    remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = BranchLedger(clone(remote, tmp_path / "checkout"))
    tries: list[str] = []

    def lose_race(commit: str) -> bool:
        tries.append(commit)
        return False

    monkeypatch.setattr(ledger, "_push", lose_race)
    monkeypatch.setattr("mutbot.ledger.branch.time.sleep", lambda seconds: None)
    with pytest.raises(GitHubError, match="the branch kept moving"):
        ledger.append([entry("one", 0)])
    assert len(tries) == 10
    assert git(remote, "for-each-ref", REF) == ""


def test_an_unreachable_remote_is_reported_without_its_credentials(tmp_path: Path) -> None:
    checkout = make_repo(tmp_path / "checkout")
    git(checkout, "remote", "add", "origin", "http://x-access-token:s3cret@127.0.0.1:9/repo.git")
    ledger = BranchLedger(checkout)

    with pytest.raises(GitHubError, match="git fetch of origin:mutbot/ledger") as caught:
        ledger.read()
    assert "s3cret" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_only_a_file_at_the_branch_root_in_a_repository_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="file name at the branch's root"):
        BranchLedger(tmp_path, path="dir/ledger.jsonl")
    with pytest.raises(GitError, match="is not inside a git repository"):
        BranchLedger(tmp_path)


def test_nothing_to_append_touches_nothing(remote: Path, tmp_path: Path) -> None:
    ledger = BranchLedger(clone(remote, tmp_path / "checkout"))
    ledger.append([])
    assert git(remote, "for-each-ref", REF) == ""
