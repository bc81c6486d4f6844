"""Tests for src/mutbot/github/events.py: which events run mutbot and the `/mutate` grammar, on
GitHub's real webhook payloads and variants derived from them."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from mutbot.github.events import BOT_EMAIL, HELP, CommandError, decide, parse_command
from mutbot.github.types import Command, CommentRef, Overrides
from testing.fuzz_targets import check_decision
from testing.hostile_inputs import paths
from testing.webhooks import payload


def push(**changes: Any) -> dict[str, Any]:
    data = payload("push_with-new-branch")
    data.update(changes)
    return data


def comment(body: str, *, on_pull: bool = False, **changes: Any) -> dict[str, Any]:
    data = payload("issue_comment_created")
    data["comment"]["body"] = body
    if on_pull:
        number = data["issue"]["number"]
        data["issue"]["pull_request"] = {
            "url": f"https://api.github.com/repos/Codertocat/Hello-World/pulls/{number}",
            "html_url": f"https://github.com/Codertocat/Hello-World/pull/{number}",
            "diff_url": f"https://github.com/Codertocat/Hello-World/pull/{number}.diff",
            "patch_url": f"https://github.com/Codertocat/Hello-World/pull/{number}.patch",
        }
    data.update(changes)
    return data


def dispatch(**inputs: Any) -> dict[str, Any]:
    data = payload("workflow_dispatch_payload")
    data["inputs"].update(inputs)
    return data


# push


def test_push_to_the_default_branch_runs() -> None:
    decision = decide("push", push())
    assert decision.run
    assert decision.trigger == "push"
    assert decision.reason == "push to refs/heads/master, the default branch"
    assert decision.overrides == Overrides()


def test_push_of_a_tag_is_ignored() -> None:
    decision = decide("push", push(ref="refs/tags/v1.2"))
    assert not decision.run
    assert decision.reason == "push to refs/tags/v1.2: tag pushes are ignored"


def test_push_to_another_branch_is_ignored() -> None:
    decision = decide("push", push(ref="refs/heads/feature"))
    assert not decision.run
    assert decision.reason == (
        "push to refs/heads/feature: only pushes to the default branch (master) run mutbot"
    )


def test_default_branch_argument_wins_over_the_payload() -> None:
    assert decide("push", push(ref="refs/heads/main"), default_branch="main").run
    assert not decide("push", push(), default_branch="main").run


def test_push_without_any_default_branch_is_refused_with_the_reason() -> None:
    data = push()
    del data["repository"]["default_branch"]
    decision = decide("push", data)
    assert not decision.run
    assert "does not say which branch is the default" in decision.reason


@pytest.mark.parametrize("prefix", ["mutbot/", "bots/mutbot-"])
def test_push_of_mutbots_own_branch_is_ignored(prefix: str) -> None:
    data = push(ref=f"refs/heads/{prefix}use-4-workers-0123456789ab")
    decision = decide("push", data, default_branch="master", bot_branch_prefix=prefix)
    assert not decision.run
    assert decision.reason.endswith("mutbot's own branches are ignored")


def test_push_deleting_the_branch_is_ignored() -> None:
    decision = decide("push", push(deleted=True, after="0" * 40, head_commit=None))
    assert not decision.run
    assert decision.reason == "push to refs/heads/master: the branch was deleted"


def test_merge_of_a_mutbot_pull_request_is_ignored() -> None:
    data = push()
    data["head_commit"]["message"] = (
        "Merge pull request #12 from Codertocat/mutbot/use-4-workers-0123456789ab\n\nmutbot: Use 4"
    )
    decision = decide("push", data)
    assert not decision.run
    assert decision.reason.endswith("a merge of mutbot's own pull request is ignored")


def test_merge_of_someone_elses_pull_request_runs() -> None:
    data = push()
    data["head_commit"]["message"] = "Merge pull request #13 from Codertocat/feature/mutbot-docs"
    assert decide("push", data).run


def test_squash_merge_of_a_mutbot_pull_request_is_ignored() -> None:
    data = push()
    data["head_commit"]["message"] = "mutbot: Use 4 workers (#12)\n\nbody"
    assert not decide("push", data).run


@pytest.mark.parametrize("who", ["author", "committer"])
def test_a_commit_by_the_mutbot_identity_is_ignored(who: str) -> None:
    data = push()
    data["head_commit"][who]["email"] = BOT_EMAIL
    assert not decide("push", data).run


# schedule and unknown events


def test_schedule_runs() -> None:
    data = {"schedule": "17 3 * * 1", "repository": payload("push_with-new-branch")["repository"]}
    decision = decide("schedule", data)
    assert decision.run
    assert decision.reason == "scheduled run (17 3 * * 1)"


def test_other_events_do_not_run_and_say_so() -> None:
    decision = decide("release", payload("pull_request_closed"))
    assert not decision.run
    assert decision.trigger == "release"
    assert decision.reason == "release events do not run mutbot"


# workflow_dispatch


def test_workflow_dispatch_runs_and_ignores_the_workflows_other_inputs() -> None:
    decision = decide("workflow_dispatch", payload("workflow_dispatch_payload"))
    assert decision.run
    assert decision.overrides == Overrides()


def test_workflow_dispatch_inputs_override_the_config() -> None:
    data = dispatch(count="5", targets="Dockerfile, config/*.ini  k8s/**", proposer="search")
    decision = decide("workflow_dispatch", data)
    assert decision.run
    assert decision.overrides == Overrides(
        count=5, targets=("Dockerfile", "config/*.ini", "k8s/**"), proposer="search"
    )


def test_workflow_dispatch_empty_inputs_mean_as_configured() -> None:
    decision = decide("workflow_dispatch", dispatch(count="", targets=" ", proposer=""))
    assert decision.run
    assert decision.overrides == Overrides()


def test_workflow_dispatch_numeric_count_and_file_proposer() -> None:
    decision = decide("workflow_dispatch", dispatch(count=3, proposer="file:cands.json"))
    assert decision.overrides == Overrides(count=3, proposer="file:cands.json")


@pytest.mark.parametrize(
    ("inputs", "why"),
    [
        ({"count": "0"}, "n must be a whole number from 1 to 50, got `0`"),
        ({"count": "51"}, "from 1 to 50"),
        ({"count": "many"}, "got `many`"),
        ({"count": True}, "input count must be text"),
        ({"targets": "/etc/passwd"}, "must be relative to the repository"),
        ({"targets": "config/../../x"}, "without '..'"),
        ({"proposer": "gpt"}, "unknown proposer 'gpt'; expected one of anthropic, search"),
        ({"proposer": "file:"}, "unknown proposer"),
        ({"kind": "wild"}, "kind 'wild' is not one of incremental, radical"),
    ],
)
def test_workflow_dispatch_bad_inputs_do_not_run(inputs: dict[str, Any], why: str) -> None:
    decision = decide("workflow_dispatch", dispatch(**inputs))
    assert not decision.run
    assert decision.reason.startswith("workflow_dispatch: ")
    assert why in decision.reason


# issue_comment


def test_a_plain_comment_does_nothing() -> None:
    decision = decide("issue_comment", payload("issue_comment_created"))
    assert not decision.run
    assert decision.reason == "comment is not a /mutate command"
    assert decision.reply is None


def test_mutate_comment_runs_with_its_overrides_and_a_comment_ref() -> None:
    decision = decide("issue_comment", comment("/mutate config/*.ini n=4 radical\nthanks!"))
    assert decision.run
    assert decision.trigger == "issue_comment"
    assert decision.command == Command("mutate", ("config/*.ini",), 4, "radical")
    assert decision.overrides == Overrides(count=4, targets=("config/*.ini",), kind="radical")
    assert decision.comment == CommentRef(
        issue_number=1, comment_id=492700400, author="Codertocat", is_pull_request=False
    )
    assert decision.reason == "/mutate by Codertocat on issue #1"


def test_an_outsiders_command_still_decides_run_permission_is_checked_later() -> None:
    data = comment("/mutate")
    data["comment"]["user"]["login"] = data["sender"]["login"] = "drive-by"
    data["comment"]["author_association"] = "NONE"
    decision = decide("issue_comment", data)
    assert decision.run
    assert decision.comment is not None
    assert decision.comment.author == "drive-by"
    assert decision.comment.comment_id == 492700400


@pytest.mark.parametrize("action", ["edited", "deleted"])
def test_edited_and_deleted_comments_are_ignored(action: str) -> None:
    decision = decide("issue_comment", comment("/mutate", action=action))
    assert not decision.run
    assert decision.reason == f"comment {action}: only new comments are read"
    assert decision.comment is None and decision.reply is None


@pytest.mark.parametrize(
    ("login", "kind"), [("mutbot-app[bot]", "Bot"), ("github-actions[bot]", "User")]
)
def test_comments_by_bots_are_ignored(login: str, kind: str) -> None:
    data = comment("/mutate n=2")
    data["sender"]["login"] = data["comment"]["user"]["login"] = login
    data["sender"]["type"] = data["comment"]["user"]["type"] = kind
    decision = decide("issue_comment", data)
    assert not decision.run
    assert "bot" in decision.reason


def test_help_replies_and_does_not_run() -> None:
    decision = decide("issue_comment", comment("/mutate help"))
    assert not decision.run
    assert decision.reply == HELP
    assert decision.command == Command("help")
    assert decision.comment is not None


def test_a_malformed_command_replies_with_the_error_and_the_help() -> None:
    decision = decide("issue_comment", comment("/mutate n=100"))
    assert not decision.run
    assert decision.reason == (
        "/mutate by Codertocat on issue #1: n must be a whole number from 1 to 20, got `100`"
    )
    assert decision.reply is not None
    assert decision.reply.startswith("n must be a whole number from 1 to 20, got `100`\n\n")
    assert decision.reply.endswith(HELP)
    assert decision.comment is not None


def test_revert_on_a_plain_issue_is_refused() -> None:
    decision = decide("issue_comment", comment("/mutate revert"))
    assert not decision.run
    assert decision.reply == "`/mutate revert` works only on a merged mutbot pull request."
    assert decision.reason.endswith("not a pull request")


def test_revert_on_a_pull_request_is_marked_for_the_api_check() -> None:
    decision = decide("issue_comment", comment("/mutate revert", on_pull=True))
    assert decision.run
    assert decision.command == Command("revert")
    assert decision.comment == CommentRef(
        issue_number=1,
        comment_id=492700400,
        author="Codertocat",
        is_pull_request=True,
        pull_merged=None,
    )
    assert decision.overrides == Overrides()


@pytest.mark.parametrize(("merged_at", "merged"), [("2024-01-01T00:00:00Z", True), (None, False)])
def test_merged_at_in_the_payload_is_passed_on(merged_at: str | None, merged: bool) -> None:
    data = comment("/mutate revert", on_pull=True)
    data["issue"]["pull_request"]["merged_at"] = merged_at
    decision = decide("issue_comment", data)
    assert decision.comment is not None
    assert decision.comment.pull_merged is merged


def test_mutate_on_a_pull_request_names_it() -> None:
    decision = decide("issue_comment", comment("/mutate", on_pull=True))
    assert decision.run
    assert decision.reason == "/mutate by Codertocat on pull request #1"


@pytest.mark.parametrize(
    "body", ["/mutated", "/Mutate", "please /mutate", "/mutate-all", "> /mutate", "", "  \n"]
)
def test_not_a_command(body: str) -> None:
    assert not decide("issue_comment", comment(body)).run
    with pytest.raises(CommandError, match="not a /mutate command"):
        parse_command(body)


def test_only_the_first_line_counts() -> None:
    assert not decide("issue_comment", comment("hello\n/mutate")).run
    assert parse_command("\n  /mutate radical  \nn=3 more words") == Command(
        "mutate", kind="radical"
    )


# the grammar


@pytest.mark.parametrize(
    ("body", "command"),
    [
        ("/mutate", Command("mutate")),
        ("/mutate help", Command("help")),
        ("/mutate revert", Command("revert")),
        ("/mutate Dockerfile", Command("mutate", globs=("Dockerfile",))),
        (
            "/mutate Dockerfile, config/*.ini **/*.yml",
            Command("mutate", globs=("Dockerfile", "config/*.ini", "**/*.yml")),
        ),
        ("/mutate `nginx/*.conf`", Command("mutate", globs=("nginx/*.conf",))),
        ("/mutate n=1", Command("mutate", count=1)),
        ("/mutate n=20 incremental", Command("mutate", count=20, kind="incremental")),
        ("/mutate\tradical ./app.ini", Command("mutate", globs=("./app.ini",), kind="radical")),
        ("/mutate radical radical", Command("mutate", kind="radical")),
    ],
)
def test_parse_command(body: str, command: Command) -> None:
    assert parse_command(body) == command


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("/mutate n=0", "n must be a whole number from 1 to 20, got `0`"),
        ("/mutate n=21", "from 1 to 20, got `21`"),
        ("/mutate n=-1", "got `-1`"),
        ("/mutate n=two", "got `two`"),
        ("/mutate n=2 n=3", "n=N is given twice"),
        ("/mutate incremental radical", "choose one of incremental or radical"),
        ("/mutate help me", "`/mutate help` takes no arguments"),
        ("/mutate revert n=2", "`/mutate revert` takes no arguments"),
        ("/mutate n=2 help", "`help` stands alone"),
        ("/mutate /etc/passwd", "must be relative to the repository"),
        ("/mutate config/../secrets", "without '..'"),
        ("/mutate count=3", "unknown option `count=3`: the only option is n=N"),
        ("/mutate radcal", "unknown word `radcal`: did you mean `radical`"),
        ("/mutate please", "unknown word `please`: a glob contains '.', '/' or '*'"),
        ("/mutate a;rm", "`a;rm` is not a path glob"),
        ("/mutate " + " ".join(f"f{i}.ini" for i in range(21)), "at most 20 globs"),
    ],
)
def test_parse_command_errors(body: str, message: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_command(body)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text


def test_errors_never_echo_a_mention_outside_code() -> None:
    with pytest.raises(CommandError) as caught:
        parse_command("/mutate n=@octocat")
    assert "`@octocat`" in str(caught.value)


def test_help_documents_the_grammar() -> None:
    for part in ["`/mutate`", "GLOB", "n=N", "incremental", "radical", "help", "revert"]:
        assert part in HELP
    assert "1–20" in HELP


def test_a_closed_mutbot_pull_request_is_only_recorded() -> None:
    data = payload("pull_request_closed")
    data["pull_request"]["head"]["ref"] = "mutbot/threads-abc1234"
    decision = decide("pull_request", data)
    assert not decision.run
    assert decision.reason == "mutbot/threads-abc1234 closed: its outcome goes to the ledger"
    data["pull_request"]["head"]["ref"] = "feature"
    assert decide("pull_request", data).reason == "pull request events only record mutbot's own"


# Hardening: decide() is total. Any JSON value as payload, any field of any type: a Decision.

WRONG = ([], {}, "abc", 1.5, -1, 0, True, None, 10**30, "x" * 10_000)


def wrong_typed_payloads() -> Iterator[tuple[str, str, Any]]:
    """Every event fixture (and a /mutate comment on a pull request), every field replaced by
    every wrong value in turn."""
    seeds = [
        ("push", push()),
        ("workflow_dispatch", dispatch(count="3", targets="a.ini")),
        ("issue_comment", comment("/mutate config/*.ini n=2", on_pull=True)),
        ("pull_request", payload("pull_request_closed")),
        ("schedule", {"schedule": "17 3 * * 1"}),
    ]
    for event, seed in seeds:
        for where in paths(seed):
            if not where:
                continue
            for value in WRONG:
                data = copy.deepcopy(seed)
                parent = data
                for key in where[:-1]:
                    parent = parent[key]
                parent[where[-1]] = value
                yield event, "/".join(map(str, where)), data


def test_a_wrong_type_anywhere_gives_a_decision_never_an_exception() -> None:
    tried = 0
    for event, where, data in wrong_typed_payloads():
        try:
            check_decision(decide(event, data))
        except Exception as exc:
            raise AssertionError(f"{event} with {where} changed: {exc!r}") from exc
        tried += 1
    assert tried > 5000


@pytest.mark.parametrize("data", [[], "push", 3, None, 1.5, True])
def test_a_payload_that_is_not_an_object_is_ignored(data: object) -> None:
    decision = decide("push", data)
    assert not decision.run
    assert decision.reason == "push event: the payload is not a JSON object; ignored"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"number": "abc"}, "issue.number is not a positive whole number"),
        ({"number": 0}, "issue.number is not a positive whole number"),
        ({"number": True}, "issue.number is not a positive whole number"),
        ({"pull_request": "yes"}, "issue.pull_request is not an object"),
    ],
)
def test_a_comment_with_a_malformed_issue_is_ignored(change: dict[str, Any], why: str) -> None:
    data = comment("/mutate")
    data["issue"].update(change)
    decision = decide("issue_comment", data)
    assert not decision.run and decision.comment is None and decision.reply is None
    assert decision.reason == f"issue_comment event: malformed payload ({why}); ignored"


def test_an_overlong_glob_is_refused_by_name() -> None:
    with pytest.raises(CommandError, match="is too long: at most 256 characters"):
        parse_command("/mutate " + "**/" * 100 + "x")
    decision = decide("workflow_dispatch", dispatch(targets="a/" * 200))
    assert not decision.run
    assert "is too long: at most 256 characters" in decision.reason


def test_dispatch_takes_at_most_twenty_globs() -> None:
    decision = decide("workflow_dispatch", dispatch(targets=" ".join(["a.ini"] * 21)))
    assert decision.reason == "workflow_dispatch: at most 20 target globs, got 21"


def test_reasons_quote_payload_text_cut_short() -> None:
    decision = decide("push", push(ref="refs/heads/" + "b" * 100_000))
    assert not decision.run and len(decision.reason) < 300
