from datetime import UTC, datetime, timedelta, timezone

import pytest

from mutbot.config import Policy
from mutbot.governance import codeowners, in_quiet_hours, kind_allowed, reviewers, weekly_room

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def at(hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return NOW.replace(hour=hour, minute=minute)


def test_kind_allowed() -> None:
    both = Policy()
    only = Policy(allowed_kinds=["incremental"])
    assert kind_allowed("incremental", both) is None
    assert kind_allowed("radical", both) is None
    assert kind_allowed("incremental", only) is None
    assert kind_allowed("radical", only) == (
        "a radical candidate; policy.allowed_kinds allows only incremental"
    )


@pytest.mark.parametrize(
    ("quiet", "clock", "expected"),
    [
        (None, "03:00", False),
        ("22:00-06:00", "21:59", False),
        ("22:00-06:00", "22:00", True),  # the start is included
        ("22:00-06:00", "23:59", True),
        ("22:00-06:00", "00:00", True),  # across midnight
        ("22:00-06:00", "05:59", True),
        ("22:00-06:00", "06:00", False),  # the end is not
        ("22:00-06:00", "12:00", False),
        ("09:00-17:30", "08:59", False),
        ("09:00-17:30", "09:00", True),
        ("09:00-17:30", "17:29", True),
        ("09:00-17:30", "17:30", False),
        ("00:00-00:00", "00:00", False),  # an empty window
        ("00:00-23:59", "23:58", True),
    ],
)
def test_quiet_hours(quiet: str | None, clock: str, expected: bool) -> None:
    assert in_quiet_hours(at(clock), quiet) is expected


def test_quiet_hours_are_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    local_23h = datetime(2026, 3, 10, 23, 0, tzinfo=berlin)  # 22:00 UTC
    assert in_quiet_hours(local_23h, "22:00-22:30")
    assert not in_quiet_hours(local_23h, "23:00-23:30")
    assert in_quiet_hours(datetime(2026, 3, 10, 22, 10), "22:00-22:30")  # naive: UTC


@pytest.mark.parametrize(
    ("ages", "limit", "expected"),
    [
        ([], None, None),
        ([timedelta(hours=1)], None, None),
        ([], 3, 3),
        ([], 0, 0),
        ([timedelta(hours=1), timedelta(days=2)], 3, 1),
        ([timedelta(days=7)], 1, 1),  # exactly a week ago: out of the window
        ([timedelta(days=7) - timedelta(seconds=1)], 1, 0),  # a second later: still in
        ([timedelta(days=30)] * 5, 2, 2),
        ([timedelta(0)] * 5, 2, 0),  # never below zero
        ([-timedelta(minutes=5)], 1, 0),  # clock skew: a future timestamp counts
    ],
)
def test_weekly_room(ages: list[timedelta], limit: int | None, expected: int | None) -> None:
    assert weekly_room([NOW - age for age in ages], NOW, limit) == expected


def test_weekly_room_mixes_time_zones() -> None:
    tokyo = timezone(timedelta(hours=9))
    opened = [datetime(2026, 3, 3, 21, 0, 1, tzinfo=tokyo)]  # 12:00:01 UTC, 7 days before NOW
    assert weekly_room(opened, NOW, 1) == 0
    assert weekly_room(opened, NOW + timedelta(seconds=1), 1) == 1


# The example file of GitHub's documentation ("About code owners").
GITHUB_EXAMPLE = """\
# This is a comment.
# Each line is a file pattern followed by one or more owners.

# These owners will be the default owners for everything in
# the repo. Unless a later match takes precedence,
# @global-owner1 and @global-owner2 will be requested for
# review when someone opens a pull request.
*       @global-owner1 @global-owner2

# Order is important; the last matching pattern takes the most
# precedence. When someone opens a pull request that only
# modifies JS files, only @js-owner and not the global
# owner(s) will be requested for a review.
*.js    @js-owner #This is an inline comment.

# You can also use email addresses if you prefer. They'll be
# used to look up users just like we do for commit author
# emails.
*.go docs@example.com

# Teams can be specified as code owners as well.
*.txt @octo-org/octocats

# @doctocat owns any files in the build/logs directory at the root of the repository and
# any of its subdirectories.
/build/logs/ @doctocat

# The `docs/*` pattern will match files like `docs/getting-started.md` but not further
# nested files like `docs/build-app/troubleshooting.md`.
docs/*  docs@example.com

# @octocat owns any file in an apps directory anywhere in your repository.
apps/ @octocat

# @doctocat owns any file in the `/docs` directory in the root of your repository and any
# of its subdirectories.
/docs/ @doctocat

# Any change inside the `/scripts` directory will require approval from @doctocat or
# @octocat.
/scripts/ @doctocat @octocat

# @octocat owns any file in a `/logs` directory such as `/build/logs`, `/scripts/logs`,
# and `/deeply/nested/logs`.
**/logs @octocat

# @octocat owns any file in the `/apps` directory in the root of your repository except
# for the `/apps/github` subdirectory, as its owners are left empty.
/apps/ @octocat
/apps/github

# @octocat owns any file in the `/apps` directory in the root of your repository except
# for the `/apps/github` subdirectory, as this subdirectory has its own owner @doctocat
/apps/ @octocat
/apps/github @doctocat
"""


@pytest.mark.parametrize(
    ("path", "owners"),
    [
        ("README.md", ["@global-owner1", "@global-owner2"]),
        ("src/deep/main.c", ["@global-owner1", "@global-owner2"]),
        ("web/app.js", ["@js-owner"]),  # a later line wins; the inline comment is no owner
        ("cmd/main.go", ["docs@example.com"]),
        ("notes/todo.txt", ["@octo-org/octocats"]),
        ("build/logs/today.log", ["@octocat"]),  # **/logs comes later than /build/logs/
        ("build/output.bin", ["@global-owner1", "@global-owner2"]),
        ("docs/getting-started.md", ["@doctocat"]),  # /docs/ comes later than docs/*
        ("docs/build-app/troubleshooting.md", ["@doctocat"]),
        ("web/apps/index.js", ["@octocat"]),  # apps/ at any depth
        ("scripts/deploy.sh", ["@doctocat", "@octocat"]),
        ("scripts/logs/run.log", ["@octocat"]),
        ("deeply/nested/logs/x.txt", ["@octocat"]),
        ("apps/github/main.py", ["@doctocat"]),
        ("apps/gitlab/main.py", ["@octocat"]),
    ],
)
def test_codeowners_of_githubs_example(path: str, owners: list[str]) -> None:
    assert codeowners(GITHUB_EXAMPLE, [path]) == owners


def test_an_owner_left_empty_removes_the_owners() -> None:
    text = "/apps/ @octocat\n/apps/github\n"
    assert codeowners(text, ["apps/github/main.py"]) == []
    assert codeowners(text, ["apps/web/main.py"]) == ["@octocat"]


@pytest.mark.parametrize(
    ("pattern", "path", "owned"),
    [
        ("docs/*", "docs/getting-started.md", True),
        ("docs/*", "docs/build-app/troubleshooting.md", False),  # GitHub: direct files only
        ("docs/*", "web/docs/a.md", False),  # an inner slash anchors
        ("docs", "web/docs/a.md", True),  # no slash: any depth, folder or file
        ("docs", "web/docs", True),
        ("/docs", "web/docs/a.md", False),  # a leading slash anchors
        ("docs/", "docs", False),  # a trailing slash: folders only
        ("docs/", "web/docs/a.md", True),
        ("*.md", "a/b/c.md", True),
        ("*.md", "a/b/c.mdx", False),
        ("/*.md", "a/b.md", False),
        ("/*.md", "b.md", True),
        ("/*", "b.md", True),
        ("/*", "a/b.md", False),
        ("a/**/b.txt", "a/b.txt", True),
        ("a/**/b.txt", "a/x/y/b.txt", True),
        ("a/**/b.txt", "x/a/b.txt", False),
        ("a/**", "a/x/y.txt", True),
        ("a/**", "b/a/y.txt", False),
        ("**/logs", "logs/x", True),
        ("conf?.ini", "config/conf1.ini", True),
        ("conf?.ini", "config/conf/.ini", False),
        (r"path\ with\ spaces/", "path with spaces/x", True),
        ("src/*.py", "src/a.py", True),
        ("src/*.py", "src/pkg/a.py", False),
        ("a.b", "axb", False),  # a dot is a dot
    ],
)
def test_codeowners_patterns(pattern: str, path: str, owned: bool) -> None:
    assert codeowners(f"{pattern} @owner", [path]) == (["@owner"] if owned else [])


def test_codeowners_of_several_files_deduplicated_in_order() -> None:
    text = "* @all\n*.py @py @all\n/docs/ @docs # the writers\n"
    files = ["docs/a.md", "x.py", "y.py", "z.txt"]
    assert codeowners(text, files) == ["@docs", "@py", "@all"]
    assert codeowners("", files) == []
    assert codeowners("# only comments\n\n", files) == []


def test_reviewers_splits_users_and_teams_and_skips_the_author() -> None:
    policy = Policy(reviewers=["@alice", "octo-org/sre", "bob"])
    text = "* @carol @octo-org/octocats docs@example.com @Alice\n*.ini @dave @bob\n"
    users, teams = reviewers(policy, text, ["config/server.ini", "Dockerfile"], "BOB")
    assert users == ["alice", "dave", "carol"]
    assert teams == ["sre", "octocats"]


def test_reviewers_without_codeowners() -> None:
    policy = Policy(reviewers=["@alice"], codeowners=False)
    assert reviewers(policy, "* @carol\n", ["a"], None) == (["alice"], [])
    assert reviewers(Policy(), "", ["a"], None) == ([], [])
    assert reviewers(Policy(), "* @carol\n", ["a"], "carol") == ([], [])
