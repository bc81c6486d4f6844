"""Property: whenever the policy accepts a diff, every path git then changes in the worktree
(untracked and ignored files and mode changes included) is inside the targets and outside
the protected, always-protected and CI paths, and is a plain file. Diffs are built from the
shapes that once got past the policy: renames and copies whose header says otherwise, other
first path components, C-quoted names, odd modes, binary patches, sub-folder projects."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from mutbot import gitapply
from mutbot.errors import StageFailure
from mutbot.globs import matches
from mutbot.policy import ACTIONS, ALWAYS_PROTECTED, WORKFLOWS, DiffRules, check_changes
from mutbot.worktree import Workspace
from testing.repos import git, make_repo

PREFIXES = ("", "services/pricing")
EXISTING = (
    *["config/server.ini"] * 4,
    "Dockerfile",
    ".github/workflows/ci.yml",
    "loadtest/locustfile.py",
    ".mutbot.yml",
    "app.py",
)
FRESH = (
    *["config/new.ini"] * 4,
    "config/sub/x.ini",
    "config/.github/workflows/x.yml",
    ".github/workflows/new.yml",
    ".github/actions/a/action.yml",
    "new.ini",
    ".git/hooks/post-checkout",
)
MODES = ("100644", "100644", "100644", "100755", "120000", "160000", " 120000", "0120000")
PREFIX_A = ("b/", "x/", "", "config/", "/")
PREFIX_B = ("a/", "y/", "", "config/", "/")
TARGETS = (("config/**",), ("**",), ("config/**", "Dockerfile"))
PROTECTED = ((".github/**",), ())
BINARY = (
    "index 0000000000000000000000000000000000000000..20b5be91886d0b6f26dc98a225c0dac05fe2c86e\n"
    "GIT binary patch\nliteral 3\nKcmYdfNCE%>hycU@\n\nliteral 0\nHcmV?d00001\n\n"
)


@dataclass
class Repo:
    ws: Workspace
    tree: Path  # the worktree's root
    project: Path  # the project folder inside it
    texts: dict[str, list[str]]  # project-relative path -> lines, for hunks that apply


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Repo]]:
    made = {}
    for prefix in PREFIXES:
        project = make_repo(tmp_path_factory.mktemp("repo"), subdir=prefix)
        ws = Workspace(project)
        folder = ws.add("property")
        tree = folder.parents[prefix.count("/")] if prefix else folder
        texts = {p: (folder / p).read_text().splitlines() for p in EXISTING}
        made[prefix] = Repo(ws, tree, folder, texts)
    yield made
    for repo in made.values():
        repo.ws.close()


def render(prefix: str, path: str, style: str) -> str:
    name = prefix + path
    if style == "plain":
        return name
    if style == "octal":  # every letter c written as \143, as git may
        name = "".join(f"\\{ord(c):03o}" if c == "c" else c for c in name)
    return f'"{name}"'


@st.composite
def sections(draw: st.DrawFn, texts: dict[str, list[str]]) -> str:
    kind = draw(st.sampled_from(["modify", "create", "delete", "rename", "copy", "mode", "bin"]))
    old, new = draw(st.sampled_from(EXISTING)), draw(st.sampled_from(FRESH))
    if kind in ("modify", "delete", "mode"):
        new = old
    if kind in ("create", "bin"):
        old = new
    # what the header and ---/+++ lines claim: the truth, or the truth with one lie
    claim_old, claim_new, pa, pb, traditional = old, new, "a/", "b/", False
    lie = draw(st.sampled_from(("none",) * 5 + ("old", "new", "a", "b", "plain")))
    if lie == "old":
        claim_old = draw(st.sampled_from((*EXISTING, *FRESH)))
    elif lie == "new":
        claim_new = draw(st.sampled_from((*EXISTING, *FRESH)))
    elif lie == "a":
        pa = draw(st.sampled_from(PREFIX_A))
    elif lie == "b":
        pb = draw(st.sampled_from(PREFIX_B))
    elif lie == "plain":
        traditional = True  # no `diff --git`: git strips the first component, whatever it is
    style = draw(st.sampled_from(("plain", "plain", "quoted", "octal")))
    mode = draw(st.sampled_from(MODES))
    out = (
        []
        if traditional
        else [f"diff --git {render(pa, claim_old, style)} {render(pb, claim_new, style)}\n"]
    )
    minus, plus = f"--- {render(pa, claim_old, style)}\n", f"+++ {render(pb, claim_new, style)}\n"
    lines = texts.get(old, [])
    if kind == "modify":
        body = "".join(f"-{line}\n" for line in lines) + "+changed\n"
        out += [minus, plus, f"@@ -1,{len(lines)} +1 @@\n", body]
    elif kind == "delete":
        out += [f"deleted file mode {mode}\n", minus, "+++ /dev/null\n"]
        out += [f"@@ -1,{len(lines)} +0,0 @@\n", "".join(f"-{line}\n" for line in lines)]
    elif kind == "create":
        out += [f"new file mode {mode}\n", "--- /dev/null\n", plus]
        out += ["@@ -0,0 +1 @@\n", "+../.mutbot.yml\n", "\\ No newline at end of file\n"]
    elif kind in ("rename", "copy"):
        out += ["similarity index 100%\n", f"{kind} from {old}\n", f"{kind} to {new}\n"]
    elif kind == "mode":
        out += ["old mode 100644\n", f"new mode {mode}\n"]
    else:
        out += [f"new file mode {mode}\n", BINARY]
    return "".join(out)


@st.composite
def cases(draw: st.DrawFn, repos: dict[str, Repo]) -> tuple[Repo, str, DiffRules]:
    repo = repos[draw(st.sampled_from(PREFIXES))]
    diff = "".join(draw(st.lists(sections(repo.texts), min_size=1, max_size=2)))
    rules = DiffRules(
        targets=draw(st.sampled_from(TARGETS)),
        protected=(*draw(st.sampled_from(PROTECTED)), ".mutbot.yml", "loadtest/locustfile.py"),
        max_changed_lines=500,
        max_files=10,
    )
    return repo, diff, rules


def changed(repo: Repo) -> list[str]:
    """Every path that differs in the worktree, as the repository names it."""
    out = git(repo.tree, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored")
    return [entry[3:] for entry in out.split("\0") if entry]


def assert_allowed(repo: Repo, rules: DiffRules) -> None:
    prefix = repo.ws.prefix
    for path in changed(repo):
        assert not prefix or path.startswith(f"{prefix}/"), path
        relative = path.removeprefix(f"{prefix}/") if prefix else path
        assert matches(relative, rules.targets), path
        for globs in (rules.protected, ALWAYS_PROTECTED, WORKFLOWS, ACTIONS):
            assert not matches(relative, globs), path
            assert not matches(path, globs), path
        on_disk = repo.tree / path
        assert not on_disk.is_symlink() and (on_disk.is_file() or not on_disk.exists()), path


def reset(repo: Repo) -> None:
    git(repo.tree, "reset", "--quiet", "--hard")
    git(repo.tree, "clean", "-fdxq")


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_whatever_the_policy_accepts_stays_inside_the_rules(
    repos: dict[str, Repo], data: st.DataObject
) -> None:
    repo, diff, rules = data.draw(cases(repos))
    try:
        repo.ws.apply(repo.project, diff, rules)
    except StageFailure as refusal:
        event(f"refused at {refusal.stage}")
    else:
        event("accepted")
        assert_allowed(repo, rules)
    finally:
        reset(repo)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_git_reading_alone_keeps_inside_the_rules(
    repos: dict[str, Repo], data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Without the pure pre-check: what git says, judged and then compared with the worktree."""
    repo, diff, rules = data.draw(cases(repos))
    scratch = tmp_path_factory.mktemp("scratch")
    patch = scratch / "diff.patch"
    patch.write_text(diff + "\n")
    objects = Path(repo.ws.repo.common_dir) / "objects"
    prefix = repo.ws.prefix
    try:
        (scratch / "git").mkdir()
        changes = gitapply.predict(repo.tree, patch, prefix, scratch / "git", objects)
        named = [c.path.removeprefix(f"{prefix}/") if prefix else c.path for c in changes]
        check_changes(changes, rules, prefix, named)
        gitapply.apply(repo.tree, patch, prefix)
    except (StageFailure, gitapply.ApplyFailed) as refusal:
        event(f"refused: {type(refusal).__name__}")
    else:
        event("accepted")
        assert {f.path for f in gitapply.found(repo.tree)} <= {c.path for c in changes}
        assert_allowed(repo, rules)
    finally:
        reset(repo)
        shutil.rmtree(scratch)
