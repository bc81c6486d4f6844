"""Hostile diffs for the diff policy's pure reader (`mutbot.policy.check_diff`), for
benchmarks/fuzz.py: files assembled from the shapes that once got past the policy (renames and
copies that disagree with their header, odd prefixes, C-quoted names, odd modes, binary
patches, wrong hunk counts), then damaged at the character level. Whatever the reader accepts
must name only paths the rules allow; git's own reading is checked by
tests/test_policy_property.py, which applies what it accepts."""

from __future__ import annotations

import random

from mutbot.errors import StageFailure
from mutbot.globs import matches
from mutbot.policy import ACTIONS, ALWAYS_PROTECTED, WORKFLOWS, DiffRules, check_diff
from testing.fuzz_targets import Target, short

RULES = DiffRules(
    targets=("config/**", "Dockerfile"),
    protected=(".github/**", "loadtest/locustfile.py"),
    max_changed_lines=200,
    max_files=10,
)
NAMES = (
    "config/server.ini",
    "config/new.ini",
    "Dockerfile",
    ".github/workflows/ci.yml",
    ".github/actions/x/action.yml",
    ".mutbot.yml",
    "loadtest/locustfile.py",
    ".git/config",
    "config/../.mutbot.yml",
    "/etc/passwd",
    "config//x.ini",
    "config/a b.ini",
    "config/\u00e9.ini",
    "config/.GIT/x",
)
PREFIXES = ("a/", "b/", "a/", "b/", "x/", "", "a//", "config/")
EXTENDED = (
    "new file mode 100644",
    "new file mode 100755",
    "new file mode  120000",
    "new file mode 0120000",
    "new file mode 160000",
    "deleted file mode 100644",
    "old mode 100644",
    "new mode 100755",
    "new mode 120000",
    "similarity index 90%",
    "dissimilarity index 10%",
    "index 0123456..89abcde 100644",
    "index 0123456..89abcde",
    "GIT binary patch",
    "literal 0",
)
HUNKS = (
    "@@ -1 +1 @@\n-a\n+b\n",
    "@@ -1,2 +1,2 @@\n a\n-b\n+c\n",
    "@@ -0,0 +1 @@\n+new\n",
    "@@ -1 +0,0 @@\n-gone\n",
    "@@ -1,3 +1 @@\n-a\n+b\n",
    "@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file\n",
    "@@ -1 +1 @@\n-a\n+" + "x" * 9000 + "\n",
    "@@ -99999999999999999999 +1 @@\n-a\n+b\n",
)
NOISE = ("\r", "\t", "\x00", "\ud800", "\\", '"', " ", "\n", "@@", "+++ ", "--- ", "diff --git ")


def _name(rng: random.Random, prefix: str, name: str) -> str:
    text = prefix + name
    if rng.random() < 0.2:  # C-quoted, some letters as octal escapes
        text = "".join(f"\\{ord(c):03o}" if c in "cw" and rng.random() < 0.5 else c for c in text)
        return f'"{text}"'
    return text


def _honest(rng: random.Random) -> str:
    """A plain modification, creation or deletion, as `git diff` writes it."""
    name = rng.choice(NAMES)
    head = f"diff --git a/{name} b/{name}\n"
    kind = rng.choice(("modify", "modify", "create", "delete"))
    if kind == "create":
        return f"{head}new file mode 100644\n--- /dev/null\n+++ b/{name}\n{HUNKS[2]}"
    if kind == "delete":
        return f"{head}deleted file mode 100644\n--- a/{name}\n+++ /dev/null\n{HUNKS[3]}"
    return f"{head}--- a/{name}\n+++ b/{name}\n{rng.choice(HUNKS[:2])}"


def _section(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return _honest(rng)
    old, new = rng.choice(NAMES), rng.choice(NAMES)
    if rng.random() < 0.6:
        new = old
    lines = [f"diff --git {_name(rng, rng.choice(PREFIXES), old)} "
             f"{_name(rng, rng.choice(PREFIXES), new)}"]  # fmt: skip
    for _ in range(rng.choice((0, 0, 1, 2, 3))):
        lines.append(rng.choice(EXTENDED))
    if rng.random() < 0.25:
        verb = rng.choice(("rename", "copy"))
        lines += [f"{verb} from {rng.choice(NAMES)}", f"{verb} to {rng.choice(NAMES)}"]
    if rng.random() < 0.1:
        lines.append(f"Binary files a/{old} and b/{new} differ")
    elif rng.random() < 0.9:
        minus = "/dev/null" if rng.random() < 0.1 else _name(rng, rng.choice(PREFIXES), old)
        plus = "/dev/null" if rng.random() < 0.1 else _name(rng, rng.choice(PREFIXES), new)
        lines += [f"--- {minus}", f"+++ {plus}"]
        for _ in range(rng.choice((1, 1, 2))):
            lines.append(rng.choice(HUNKS).rstrip("\n"))
    return "\n".join(lines) + "\n"


def generate(rng: random.Random) -> str:
    text = "".join(_section(rng) for _ in range(rng.choice((1, 1, 2, 3))))
    for _ in range(rng.choice((0, 0, 0, 1, 3))):  # damage: insert, delete or duplicate
        at = rng.randrange(len(text) + 1)
        how = rng.random()
        if how < 0.5:
            text = text[:at] + rng.choice(NOISE) + text[at:]
        elif how < 0.8:
            text = text[:at] + text[at + rng.randrange(1, 20) :]
        else:
            end = text.find("\n", at)
            text = text[:at] + text[at:end] + text[at:] if end > at else text
    return text


def check(diff: str) -> str:
    try:
        summary = check_diff(diff, RULES)
    except StageFailure as failure:
        assert failure.stage == "policy", failure.stage
        assert failure.reason and "\n" not in failure.reason, repr(failure.reason)
        return "rejected"
    for path in summary.files:
        assert matches(path, RULES.targets), path
        assert not matches(path, (*RULES.protected, *ALWAYS_PROTECTED, *WORKFLOWS, *ACTIONS))
        assert ".." not in path.split("/") and not path.startswith("/"), path
    return "accepted"


def diff_target() -> Target:
    return Target("diff reader (policy)", generate, check, short)
