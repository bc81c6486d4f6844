import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutbot.globs import MAX_GLOB, check, match, matches, normalise


def reference(pattern: str) -> re.Pattern[str]:
    """The plain regex translation the matcher replaced: right, but exponential on some globs."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] in "*?":
            out.append("[^/]*" if pattern[i] == "*" else "[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


PIECES = st.sampled_from(["a", "b", "/", "*", "?", "**/", "**", ".", "-"])


@settings(max_examples=600, deadline=None)
@given(
    pattern=st.lists(PIECES, min_size=1, max_size=7).map("".join),
    path=st.text(alphabet="ab/.-", max_size=10),
)
def test_the_matcher_agrees_with_the_regex_translation(pattern: str, path: str) -> None:
    # the old `matches` dropped a leading `./` before translating
    assert match(path, pattern) == bool(reference(pattern.removeprefix("./")).fullmatch(path))


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("config/server.ini", "config/**", True),
        ("config/a/b.ini", "config/*", False),
        ("Dockerfile", "**/Dockerfile", True),
        ("svc/Dockerfile", "**/Dockerfile", True),
        (".github/workflows/ci.yml", ".github/**", True),
        ("config/server.ini", "./config/*.ini", True),
        ("a/b/c", "a/**/c", True),
        ("a/c", "a/**/c", True),
    ],
)
def test_common_globs(path: str, pattern: str, expected: bool) -> None:
    assert match(path, pattern) is expected


def test_repeated_globstars_collapse() -> None:
    assert normalise("**/**/**/x") == "**/x"
    assert normalise("./a/**/**/b") == "a/**/b"


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("a/" * 40 + "y", "**/" * 80 + "x"),  # took 24 s per path as a regex
        ("a" * 200, "*a" * 60 + "c"),
        ("a" * 200, "**a" * 60 + "c"),
    ],
)
def test_hostile_globs_are_cheap(path: str, pattern: str) -> None:
    started = time.process_time()
    for _ in range(10):
        assert not match(path, pattern)
    # generous: the real bound is len(path) × len(pattern) steps, about a millisecond here
    assert time.process_time() - started < 2


def test_length_is_bounded() -> None:
    assert check("x" * MAX_GLOB)
    with pytest.raises(ValueError, match="at most"):
        check("x" * (MAX_GLOB + 1))
    with pytest.raises(ValueError):
        matches("x", ("*" * (MAX_GLOB + 1),))
