"""Tests for src/mutbot/gitdiff.py: the strict reading of git diffs, names decoded as git does."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutbot.gitdiff import DiffError, FileDiff, parse, unquote
from testing.repos import git


def modify(path: str) -> str:
    return (
        f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n"
        f"--- a/{path}\n+++ b/{path}\n@@ -1 +1 @@\n-old 0\n+new 0\n"
    )


# Names git quotes (core.quotePath, its default): control characters, quotes, backslashes and
# every byte above 0x7f, as \t, \", \\ or octal escapes.
ODD_NAMES = ["café.ini", "tab\there.ini", 'say "hi".ini', "back\\slash.ini", "new\nline.ini",
             "bell\x07.ini", "my file.ini", " lead.ini", "日本.ini"]  # fmt: skip


def test_names_are_decoded_exactly_as_git_quotes_them(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    for name in ODD_NAMES:
        (tmp_path / name).write_text("x\n")
    git(tmp_path, "add", "--all")
    diff = git(tmp_path, "diff", "--cached")
    assert '"b/caf\\303\\251.ini"' in diff  # git did quote
    assert sorted(f.new for f in parse(diff) if f.new) == sorted(ODD_NAMES)
    git(tmp_path, "commit", "--quiet", "-m", "odd names")
    for name in ODD_NAMES:
        git(tmp_path, "mv", name, f"moved {name}")
    renames = git(tmp_path, "diff", "--cached", "-M")
    assert sorted((f.old, f.new) for f in parse(renames)) == sorted(
        (name, f"moved {name}") for name in ODD_NAMES
    )


@pytest.mark.parametrize(
    "quoted",
    ['"a/\\x63i.yml"', '"a/\\400"', '"a/\\9"', '"a/x', '"a/"x"', '"a/\\377"', "a/x"],
    ids=["hex", "octal-overflow", "not-octal", "unterminated", "bare-quote", "not-utf8", "plain"],
)
def test_quoting_git_would_not_write_is_refused(quoted: str) -> None:
    with pytest.raises(ValueError):
        unquote(quoted)


def test_a_rename_a_copy_a_mode_change_and_an_empty_new_file() -> None:
    diff = (
        "diff --git a/config/a.ini b/config/b.ini\nsimilarity index 90%\n"
        "rename from config/a.ini\nrename to config/b.ini\n--- a/config/a.ini\n+++ b/config/b.ini\n"
        "@@ -1,2 +1,2 @@\n x\n-y\n+z\n"
        "diff --git a/config/b.ini b/config/c.ini\nsimilarity index 100%\n"
        "copy from config/b.ini\ncopy to config/c.ini\n"
        "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n"
        "diff --git a/config/empty.ini b/config/empty.ini\nnew file mode 100644\n"
        "index 0000000..e69de29\n"
    )
    assert parse(diff) == [
        FileDiff("config/a.ini", "config/b.ini", (), False, False, 1, 1, 1),
        FileDiff("config/b.ini", "config/c.ini", (), True, False, 0, 0, 0),
        FileDiff("run.sh", "run.sh", ("100644", "100755"), False, False, 0, 0, 0),
        FileDiff(None, "config/empty.ini", ("100644",), False, False, 0, 0, 0),
    ]


def test_a_name_with_spaces_and_the_tab_git_writes_after_it() -> None:
    diff = (
        "diff --git a/config/my file.ini b/config/my file.ini\n"
        "--- a/config/my file.ini\t\n+++ b/config/my file.ini\t\n@@ -1 +1 @@\n-a\n+b\n"
    )
    assert [f.paths for f in parse(diff)] == [("config/my file.ini",)]


def test_hunks_are_counted_as_git_counts_them() -> None:
    diff = (
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n\n--- not a header\n"
        "+++ not one either\n\\ No newline at end of file\n"
    )  # an empty line is an empty context line; `--- ` inside a hunk is a removed line
    assert parse(diff) == [FileDiff("x", "x", (), False, False, 1, 1, 1)]


@pytest.mark.parametrize(
    ("diff", "reason"),
    [
        (modify("config/a.ini") + "trailing words\n", "line 8: expected `diff --git a/… b/…`"),
        ("Subject: x\n\n" + modify("config/a.ini"), "line 1: expected `diff --git a/… b/…`"),
        (modify("config/a.ini") + "-more\n", "line 8: expected `diff --git a/… b/…`"),
        (modify("config/a.ini").replace("+++ b/", "+++ /dev/null\n+++ b/"), "line 4: `+++ "),
        (
            "diff --git a/config/a.ini b/config/b.ini\nindex 1111111..2222222 100644\n",
            "line 1: the header names two different files",
        ),
        (
            "diff --git a/config/a.ini b/config/b.ini\nrename from config/a.ini\n",
            "line 1: a rename or copy needs one `from` and one `to` line",
        ),
        (
            "diff --git a/config/a.ini b/config/a.ini\nnew file mode 100644\n"
            "deleted file mode 100644\n",
            "line 1: config/a.ini is both created and deleted",
        ),
        (
            "diff --git a/config/a.ini b/config/a.ini\nold mode 100644\nold mode 100755\n",
            "line 3: a second `old mode` line",
        ),
        (
            "diff --git a/config/a.ini b/config/a.ini\n--- a/config/a.ini\n+++ b/config/a.ini\n",
            "line 4: no hunk after the `---`/`+++` lines of config/a.ini",
        ),
        ("diff --git a/config/a.ini b/" + "x" * 9000 + "\n", "line 1: a `diff --git` line longer"),
    ],
    ids=[
        "text-after",
        "text-before",
        "extra-hunk-line",
        "second-plus-line",
        "different-names",
        "half-a-rename",
        "created-and-deleted",
        "repeated-line",
        "no-hunk",
        "long-header",
    ],
)
def test_rejects_anything_but_the_plain_form(diff: str, reason: str) -> None:
    with pytest.raises(DiffError) as info:
        parse(diff)
    assert str(info.value).startswith(reason)


LINES = st.sampled_from(
    [
        "diff --git a/config/a.ini b/config/a.ini",
        'diff --git "a/config/\\303\\251" "b/config/\\303\\251"',
        'diff --git "a/x\\q" b/x',
        "diff --git a/x b/y",
        "rename from config/a.ini",
        "rename to config/b.ini",
        'copy from "config/\\x"',
        "copy to config/c.ini",
        "new file mode 100644",
        "deleted file mode 120000",
        "old mode 100644",
        "new mode 100755",
        "index 1234567..89abcde 100644",
        "similarity index 100%",
        "--- a/config/a.ini",
        "+++ b/config/a.ini",
        "--- /dev/null",
        "+++ /dev/null",
        "@@ -1 +1 @@",
        "@@ -0,0 +1,2 @@",
        "@@ -1,99999999999 +1 @@",
        "-old",
        "+new",
        " context",
        "\\ No newline at end of file",
        "GIT binary patch",
        "",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(LINES, st.text(max_size=12)), max_size=14))
def test_no_input_gets_past_without_a_reason(lines: list[str]) -> None:
    """Whatever the text, it is read or refused with a reason: never another exception."""
    try:
        files = parse("\n".join(lines))
    except DiffError as error:
        assert str(error)
    else:
        assert files and all(f.paths for f in files)
