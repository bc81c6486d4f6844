"""Tests for src/mutbot/policy.py: what a candidate diff may touch, and how much."""

from __future__ import annotations

import pytest

from mutbot.errors import StageFailure
from mutbot.globs import matches
from mutbot.policy import ALWAYS_PROTECTED, DiffRules, DiffSummary, check_diff

RULES = DiffRules(
    targets=("Dockerfile", "config/*.ini"),
    protected=(".github/**",),
    max_changed_lines=20,
    max_files=3,
)
ANYTHING = DiffRules(targets=("**",), protected=(), max_changed_lines=20, max_files=3)


def modify(path: str, removed: int = 1, added: int = 1) -> str:
    """A git diff replacing `removed` lines of PATH with `added` lines."""
    minus = "".join(f"-old {i}\n" for i in range(removed))
    plus = "".join(f"+new {i}\n" for i in range(added))
    return (
        f"diff --git a/{path} b/{path}\n"
        "index 1111111..2222222 100644\n"
        f"--- a/{path}\n"
        f"+++ b/{path}\n"
        f"@@ -1,{removed} +1,{added} @@\n"
        f"{minus}{plus}"
    )


def rename(source: str, target: str) -> str:
    return (
        f"diff --git a/{source} b/{target}\n"
        "similarity index 90%\n"
        f"rename from {source}\n"
        f"rename to {target}\n"
        f"--- a/{source}\n"
        f"+++ b/{target}\n"
        "@@ -1 +1 @@\n"
        "-workers = 1\n"
        "+workers = 4\n"
    )


def rejection(diff: str, rules: DiffRules = RULES) -> str:
    with pytest.raises(StageFailure) as info:
        check_diff(diff, rules)
    assert info.value.stage == "policy"
    assert str(info.value) == f"policy: {info.value.reason}"
    return info.value.reason


def test_accepts_a_target_file() -> None:
    assert check_diff(modify("Dockerfile"), RULES) == DiffSummary(
        files=("Dockerfile",), added=1, removed=1, hunks=1
    )


def test_accepts_several_target_files_and_counts_hunks() -> None:
    diff = modify("Dockerfile", 2, 3) + modify("config/server.ini") + modify("config/db.ini", 0, 1)
    assert check_diff(diff, RULES) == DiffSummary(
        files=("Dockerfile", "config/server.ini", "config/db.ini"), added=5, removed=3, hunks=3
    )


def test_accepts_new_and_deleted_target_files() -> None:
    new = (
        "diff --git a/config/new.ini b/config/new.ini\n"
        "new file mode 100644\n"
        "index 0000000..1111111\n"
        "--- /dev/null\n"
        "+++ b/config/new.ini\n"
        "@@ -0,0 +1 @@\n"
        "+workers = 4\n"
    )
    deleted = (
        "diff --git a/config/old.ini b/config/old.ini\n"
        "deleted file mode 100644\n"
        "index 1111111..0000000\n"
        "--- a/config/old.ini\n"
        "+++ /dev/null\n"
        "@@ -1 +0,0 @@\n"
        "-workers = 1\n"
    )
    assert check_diff(new + deleted, RULES) == DiffSummary(
        files=("config/new.ini", "config/old.ini"), added=1, removed=1, hunks=2
    )


WORKFLOW_REFUSAL = (
    "{}: changes under .github/workflows/ are never pushed (a token that could push them could "
    "change what CI runs with its secrets)"
)


def test_rejects_user_protected_path_even_if_targeted() -> None:
    rules = DiffRules(("**",), (".github/**", "secrets/*"), 20, 3)
    assert (
        rejection(modify(".github/dependabot.yml"), rules) == ".github/dependabot.yml is protected"
    )
    assert rejection(modify("secrets/key.txt"), rules) == "secrets/key.txt is protected"


def test_workflows_are_refused_even_when_targeted_and_unprotected() -> None:
    path = ".github/workflows/ci.yml"
    assert rejection(modify(path), DiffRules(("**",), (), 20, 3)) == WORKFLOW_REFUSAL.format(path)


@pytest.mark.parametrize(
    "path",
    [".mutbot.yml", ".github/mutbot.yml", ".git/config", ".git/hooks/pre-commit", ".mutbot/x"],
)
def test_rejects_always_protected_paths(path: str) -> None:
    assert rejection(modify(path), ANYTHING) == f"{path} is protected"


def test_always_protected_list() -> None:
    assert ALWAYS_PROTECTED == (".git/**", ".mutbot/**", ".mutbot.yml", ".github/mutbot.yml")


@pytest.mark.parametrize("path", ["app.py", "config/sub/server.ini", "config/server.ini.bak"])
def test_rejects_paths_outside_the_targets(path: str) -> None:
    assert rejection(modify(path)) == f"{path} is not among the targets"


@pytest.mark.parametrize("path", ["../etc/passwd", "config/../Dockerfile", "config/.."])
def test_rejects_paths_with_dotdot(path: str) -> None:
    assert rejection(modify(path), ANYTHING) == f"path {path!r} leaves the repository"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("config//x.ini", "is not a plain relative path"),
        ("config/./x.ini", "is not a plain relative path"),
        ("config/x.ini/", "is not a plain relative path"),
        ("config/x\\y.ini", "holds a control character or a backslash"),
    ],
)
def test_rejects_paths_that_are_not_plain(path: str, reason: str) -> None:
    assert rejection(modify(path), ANYTHING) == f"path {path!r} {reason}"


def test_rejects_a_nested_git_folder() -> None:
    reason = rejection(modify("config/.GIT/hooks/post-checkout"), ANYTHING)
    assert reason == "path 'config/.GIT/hooks/post-checkout' is inside a .git folder"


def test_rejects_traditional_diffs_without_git_headers() -> None:
    # git apply strips the first component of such names, whatever it is
    plain = "--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-root\n+toor\n"
    into = "--- a/Dockerfile\n+++ /etc/passwd\n@@ -1 +1 @@\n-root\n+toor\n"
    for diff in (plain, into):
        assert rejection(diff, ANYTHING) == (
            "no `diff --git` header (expected a diff as `git diff` writes it)"
        )


def test_rejects_absolute_path_in_git_form() -> None:
    diff = (
        "diff --git a/etc/passwd b/etc/passwd\n"
        "--- /etc/passwd\n"
        "+++ /etc/passwd\n"
        "@@ -1 +1 @@\n"
        "-root\n"
        "+toor\n"
    )
    assert rejection(diff, ANYTHING).startswith("the diff does not parse: ")


@pytest.mark.parametrize("diff", ["", "   \n\n", "\t"])
def test_rejects_empty_diff(diff: str) -> None:
    assert rejection(diff) == "the diff is empty"


def test_rejects_text_that_is_not_a_diff() -> None:
    garbage = "Set workers to 4 in config/server.ini\nand restart.\n"
    assert rejection(garbage) == "the diff names no file (expected a git-style unified diff)"


def test_rejects_a_diff_that_does_not_parse() -> None:
    truncated = modify("Dockerfile").replace("@@ -1,1 +1,1 @@", "@@ -1,3 +1,3 @@")
    assert rejection(truncated).startswith("the diff does not parse: ")


@pytest.mark.parametrize(
    "diff",
    [
        "diff --git a/logo.png b/logo.png\n"
        "index 1111111..2222222 100644\n"
        "Binary files a/logo.png and b/logo.png differ\n",
        "diff --git a/logo.png b/logo.png\n"
        "new file mode 100644\n"
        "index 0000000..1111111\n"
        "Binary files /dev/null and b/logo.png differ\n",
        "diff --git a/logo.png b/logo.png\n"
        "index 1111111..2222222 100644\n"
        "GIT binary patch\n"
        "literal 5\n"
        "McmZ?wbhEHbK>!3q\n"
        "\n"
        "literal 3\n"
        "KcmZ?wbhEHc0RR9@\n"
        "\n",
    ],
    ids=["modified", "new", "git-binary-patch"],
)
def test_rejects_binary_changes(diff: str) -> None:
    assert rejection(diff, ANYTHING) == "binary change to logo.png is not allowed"


def test_rejects_symlink_creation() -> None:
    diff = (
        "diff --git a/config/link.ini b/config/link.ini\n"
        "new file mode 120000\n"
        "index 0000000..1111111\n"
        "--- /dev/null\n"
        "+++ b/config/link.ini\n"
        "@@ -0,0 +1 @@\n"
        "+/etc/passwd\n"
        "\\ No newline at end of file\n"
    )
    assert rejection(diff) == "config/link.ini: symbolic links are not allowed (mode 120000)"


def test_rejects_turning_a_file_into_a_symlink() -> None:
    diff = "diff --git a/Dockerfile b/Dockerfile\nold mode 100644\nnew mode 120000\n"
    assert rejection(diff) == "Dockerfile: symbolic links are not allowed (mode 120000)"


def test_accepts_making_a_target_executable() -> None:
    diff = "diff --git a/Dockerfile b/Dockerfile\nold mode 100644\nnew mode 100755\n"
    assert check_diff(diff, RULES) == DiffSummary(("Dockerfile",), 0, 0, 0)


def test_changed_lines_limit() -> None:
    rules = DiffRules(RULES.targets, RULES.protected, max_changed_lines=5, max_files=3)
    assert check_diff(modify("Dockerfile", 2, 3), rules).added == 3
    assert rejection(modify("Dockerfile", 3, 3), rules) == "6 changed lines, above the limit of 5"


def test_files_limit() -> None:
    rules = DiffRules(RULES.targets, RULES.protected, max_changed_lines=20, max_files=2)
    two = modify("Dockerfile") + modify("config/a.ini")
    assert len(check_diff(two, rules).files) == 2
    assert rejection(two + modify("config/b.ini"), rules) == (
        "3 files changed, above the limit of 2"
    )


def test_rename_between_targets() -> None:
    summary = check_diff(rename("config/a.ini", "config/b.ini"), RULES)
    assert sorted(summary.files) == ["config/a.ini", "config/b.ini"]
    assert (summary.added, summary.removed) == (1, 1)


def test_pure_rename_between_targets() -> None:
    diff = (
        "diff --git a/config/a.ini b/config/b.ini\n"
        "similarity index 100%\n"
        "rename from config/a.ini\n"
        "rename to config/b.ini\n"
    )
    assert sorted(check_diff(diff, RULES).files) == ["config/a.ini", "config/b.ini"]


def test_rename_needs_both_paths_among_targets() -> None:
    assert rejection(rename("app.py", "config/b.ini")) == "app.py is not among the targets"
    assert rejection(rename("config/a.ini", "app.ini")) == "app.ini is not among the targets"


def test_rename_into_protected_path() -> None:
    diff = rename("config/a.ini", ".github/workflows/a.ini")
    assert rejection(diff, DiffRules(("**",), (".github/**",), 20, 3)) == (
        WORKFLOW_REFUSAL.format(".github/workflows/a.ini")
    )


def test_rename_paths_in_a_fixed_order() -> None:
    rules = DiffRules(("**",), (), max_changed_lines=100, max_files=100)
    for i in range(20):
        source, target = f"config/a{i}.ini", f"config/b{i}.ini"
        assert check_diff(rename(source, target), rules).files == (source, target)
    for i in range(20):  # both paths break the rules: the source is named first
        reason = rejection(rename(f"app{i}.py", f"tool{i}.py"))
        assert reason == f"app{i}.py is not among the targets"


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("Dockerfile", "Dockerfile", True),
        ("Dockerfile.dev", "Dockerfile", False),
        ("sub/Dockerfile", "Dockerfile", False),
        ("server.ini", "*.ini", True),
        ("config/server.ini", "*.ini", False),  # '*' stays inside one folder
        ("config/server.ini", "config/*.ini", True),
        ("config/a/server.ini", "config/*.ini", False),
        ("config/a/b/server.ini", "config/**", True),  # '**' crosses folders
        ("config/server.ini", "config/**", True),
        ("config", "config/**", False),
        ("deep/down/x.ini", "**.ini", True),
        ("x.ini", "**/*.ini", True),  # '**/' matches zero folders
        ("a/b/c/x.ini", "**/*.ini", True),
        ("config/x.ini", "config/**/x.ini", True),
        ("config/a/b/x.ini", "config/**/x.ini", True),
        ("configx.ini", "config/**/x.ini", False),
        ("a1.ini", "a?.ini", True),  # '?' is exactly one character
        ("a.ini", "a?.ini", False),
        ("a12.ini", "a?.ini", False),
        ("a/.ini", "a?.ini", False),  # ... and never '/'
        ("config/server.ini", "./config/*.ini", True),  # leading './' is ignored
        ("Dockerfile", "./Dockerfile", True),
        ("aXini", "a.ini", False),  # '.' is literal
        ("a+b.ini", "a+b.ini", True),
    ],
)
def test_matches_glob_semantics(path: str, pattern: str, expected: bool) -> None:
    assert matches(path, (pattern,)) is expected


def test_matches_any_of_several_patterns() -> None:
    assert matches("config/x.ini", ("Dockerfile", "config/*.ini"))
    assert not matches("app.py", ("Dockerfile", "config/*.ini"))
    assert not matches("app.py", ())


def test_a_run_can_narrow_the_targets_never_widen_them() -> None:
    rules = DiffRules(("config/*", "Dockerfile"), (), 20, 3, narrow=("Dockerfile", "app.py"))
    assert rejection(modify("config/server.ini"), rules) == (
        "config/server.ini is outside this run's globs (Dockerfile app.py)"
    )
    assert rejection(modify("app.py"), rules) == "app.py is not among the targets"
    assert check_diff(modify("Dockerfile"), rules).files == ("Dockerfile",)


# Diffs that git applies differently from how their `diff --git` header reads: each of these
# deleted, moved or created a workflow, the locustfile or .mutbot.yml past the old policy.
NARROW = DiffRules(
    targets=("config/**",),
    protected=(".github/**", ".mutbot.yml", "loadtest/locustfile.py"),
    max_changed_lines=200,
    max_files=10,
)
BROAD = DiffRules(("**",), (".github/**",), 200, 10)
NEW_WORKFLOW = "@@ -0,0 +1 @@\n+on: push\n"


@pytest.mark.parametrize(
    ("diff", "reason"),
    [
        (
            "diff --git a/config/server.ini b/config/x.ini\nsimilarity index 100%\n"
            "rename from .github/workflows/ci.yml\nrename to config/x.ini\n",
            "line 1: `rename from .github/workflows/ci.yml` / `rename to config/x.ini` disagree "
            "with the header 'diff --git a/config/server.ini b/config/x.ini'",
        ),
        (
            "diff --git a/config/a.ini b/config/b.ini\nsimilarity index 100%\n"
            "rename from loadtest/locustfile.py\nrename to config/b.ini\n",
            "line 1: `rename from loadtest/locustfile.py` / `rename to config/b.ini` disagree "
            "with the header 'diff --git a/config/a.ini b/config/b.ini'",
        ),
        (
            "diff --git a/config/server.ini b/config/x.ini\nsimilarity index 100%\n"
            "copy from config/server.ini\ncopy to .github/workflows/evil.yml\n",
            "line 1: `copy from config/server.ini` / `copy to .github/workflows/evil.yml` "
            "disagree with the header 'diff --git a/config/server.ini b/config/x.ini'",
        ),
        (
            "diff --git config/.github/workflows/evil.yml config/.github/workflows/evil.yml\n"
            "new file mode 100644\n--- /dev/null\n+++ config/.github/workflows/evil.yml\n"
            + NEW_WORKFLOW,
            "line 1: the header does not name a/… b/…: 'diff --git "
            "config/.github/workflows/evil.yml config/.github/workflows/evil.yml'",
        ),
        (
            "diff --git a/config/server.ini b/config/server.ini\ndeleted file mode 100644\n"
            "--- a/.github/workflows/ci.yml\n+++ /dev/null\n@@ -1 +0,0 @@\n-on: push\n",
            "line 3: `--- a/.github/workflows/ci.yml` disagrees with the header "
            "(expected a/config/server.ini)",
        ),
        (
            "diff --git a/config/link.ini b/config/link.ini\nnew file mode  120000\n"
            "--- /dev/null\n+++ b/config/link.ini\n@@ -0,0 +1 @@\n+../.mutbot.yml\n",
            "line 2: malformed header line 'new file mode  120000'",
        ),
        (
            "diff --git a/config/link.ini b/config/link.ini\nnew file mode 0120000\n"
            "--- /dev/null\n+++ b/config/link.ini\n@@ -0,0 +1 @@\n+../.mutbot.yml\n",
            "line 2: malformed header line 'new file mode 0120000'",
        ),
        (
            "diff --git a/config/server.ini b/config/server.ini\nold mode 100644\n"
            "new mode  120000\n",
            "line 3: malformed header line 'new mode  120000'",
        ),
    ],
    ids=[
        "rename-from-a-workflow",
        "rename-from-the-locustfile",
        "copy-to-a-workflow",
        "first-component-not-a",
        "minus-line-not-the-header",
        "mode-two-spaces",
        "mode-seven-digits",
        "new-mode-two-spaces",
    ],
)
def test_rejects_diffs_git_reads_otherwise_than_their_header(diff: str, reason: str) -> None:
    assert rejection(diff, NARROW) == f"the diff does not parse: {reason}"


def test_rejects_a_traditional_diff_whose_first_component_git_strips() -> None:
    diff = "--- /dev/null\n+++ config/.github/workflows/evil.yml\n" + NEW_WORKFLOW
    assert rejection(diff, NARROW) == (
        "no `diff --git` header (expected a diff as `git diff` writes it)"
    )


def test_rejects_other_prefixes_even_with_broad_targets() -> None:
    diff = (
        "diff --git x/.github/workflows/evil.yml y/.github/workflows/evil.yml\n"
        "new file mode 100644\n--- /dev/null\n+++ y/.github/workflows/evil.yml\n" + NEW_WORKFLOW
    )
    assert rejection(diff, BROAD) == (
        "the diff does not parse: line 1: the header does not name a/… b/…: "
        "'diff --git x/.github/workflows/evil.yml y/.github/workflows/evil.yml'"
    )


def test_quoted_names_are_decoded_as_git_decodes_them() -> None:
    # git writes "\143i.yml" for nothing worse than "ci.yml" if it likes; the old policy
    # matched the quoted text itself against the globs, which no protected glob matched
    diff = (
        'diff --git "a/.github/workflows/\\143i.yml" "b/.github/workflows/\\143i.yml"\n'
        "deleted file mode 100644\n"
        '--- "a/.github/workflows/\\143i.yml"\n+++ /dev/null\n@@ -1 +0,0 @@\n-on: push\n'
    )
    assert rejection(diff, BROAD).startswith(".github/workflows/ci.yml: changes under")
    accented = (
        'diff --git "a/config/caf\\303\\251.ini" "b/config/caf\\303\\251.ini"\n'
        'new file mode 100644\n--- /dev/null\n+++ "b/config/caf\\303\\251.ini"\n'
        "@@ -0,0 +1 @@\n+x = 1\n"
    )
    assert check_diff(accented, NARROW).files == ("config/café.ini",)
    bad_escape = accented.replace("\\303\\251", "\\x63")
    assert rejection(bad_escape, NARROW).startswith(
        "the diff does not parse: line 1: the header does not name a/… b/…"
    )


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("120000", "symbolic links are not allowed (mode 120000)"),
        ("160000", "submodules are not allowed (mode 160000)"),
        ("100664", "mode 100664 is not allowed (only 100644 or 100755)"),
    ],
)
def test_only_regular_file_modes(mode: str, reason: str) -> None:
    diff = (
        f"diff --git a/config/x.ini b/config/x.ini\nnew file mode {mode}\n"
        "--- /dev/null\n+++ b/config/x.ini\n@@ -0,0 +1 @@\n+x\n"
    )
    assert rejection(diff, NARROW) == f"config/x.ini: {reason}"
    index = modify("config/x.ini").replace("2222222 100644", f"2222222 {mode}")
    assert rejection(index, NARROW) == f"config/x.ini: {reason}"


def test_rejects_text_that_cannot_be_written_as_utf8() -> None:
    diff = modify("config/a.ini").replace("+new 0", "+new \ud800")
    assert rejection(diff) == "the diff is not UTF-8 text (surrogates not allowed)"
