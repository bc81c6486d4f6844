"""Webhook payloads about the fake GitHub's world (real payloads with the test's numbers and
people), `mutbot action` run against it, and runs measured by a scripted backend: what the tests
of pull request commands and the dashboard share."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

from mutbot.calm import NoQuiet
from mutbot.config import load_config
from mutbot.github.action import read_env, run_action
from mutbot.github.publish import Target, publish
from mutbot.github.remote import Remote
from mutbot.ledger.branch import BranchLedger
from mutbot.ledger.model import evaluated
from mutbot.results import RunResult
from mutbot.run.execute import Machinery
from testing.github_world import REPO, World
from testing.scripted import ScriptedTrials
from testing.scripted_run import ScriptedBackend
from testing.webhooks import payload

THREADS = "appsettings.server.threads"


def hook(name: str) -> dict[str, Any]:
    data = payload(name)
    data["repository"]["full_name"] = REPO
    data["repository"]["default_branch"] = "main"
    return data


def comment(world: World, body: str, issue: int, author: str = "maintainer") -> dict[str, Any]:
    """The real `issue_comment` payload of a comment that exists on the fake GitHub."""
    data = hook("issue_comment_created")
    data["issue"]["number"] = issue
    data["comment"]["id"] = world.fake.add_comment(issue, body, author=author)
    data["comment"]["body"] = body
    data["comment"]["user"]["login"] = author
    data["sender"]["login"] = author
    if "pull" in world.fake.issues[issue]:
        data["issue"]["pull_request"] = {"url": "x", "merged_at": None}
    return data


def edited(world: World, number: int, before: str, after: str, sender: str) -> dict[str, Any]:
    """The `issues` `edited` payload GitHub sends when `sender` changes the issue's body (the
    fake's issue gets the new body, as on GitHub)."""
    world.fake.edit_issue_body(number, after)
    data = hook("issue_comment_created")  # its issue, repository and sender, as GitHub shapes them
    del data["comment"]
    data["action"] = "edited"
    data["issue"].update(number=number, body=after)
    data["changes"] = {"body": {"from": before}}
    data["sender"]["login"] = sender
    data["sender"]["type"] = "Bot" if sender.endswith("[bot]") else "User"
    return data


def closed(world: World, number: int) -> dict[str, Any]:
    data = hook("pull_request_closed")
    pull = world.fake.pull(number)
    data["number"] = number
    data["pull_request"].update(number=number, merged=pull["merged"])
    data["pull_request"]["head"]["ref"] = pull["head"]["ref"]
    return data


def act(
    world: World,
    folder: Path,
    event: str,
    data: dict[str, Any],
    machinery: Machinery | None = None,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    env = read_env(world.variables(folder, event, data))
    with world.client() as gh:
        assert run_action(env, backend="local", client=gh, machinery=machinery) == 0


def opened(world: World, run: RunResult) -> list[int]:
    """`run` in the ledger and published: the numbers of the pull requests it opened."""
    ledger = BranchLedger(world.checkout)
    ledger.append(evaluated(run))
    target = Target(world.checkout, "main", 5, record=lambda e: ledger.append([e]))
    with world.client() as gh:
        done = publish(run, gh, Remote(world.checkout), target, lambda _: None)
    return [int(p.url.rsplit("/", 1)[1]) for p in done if p.action == "opened" and p.url]


def scripted(checkout: Path, threads_speedup: float = 0.5) -> Machinery:
    """Runs of the example measured without building or starting anything: more than one
    worker thread makes every latency `threads_speedup` times the baseline's."""
    backend = ScriptedBackend(load_config(checkout / ".mutbot.yml"), (THREADS,))
    rng = random.Random(7)

    def response(ref: str, _name: str, _index: int) -> dict[str, float]:
        threads = backend.built[ref].get(THREADS, 1)
        faster = threads_speedup if isinstance(threads, int) and threads > 1 else 1.0
        noise = math.exp(rng.gauss(0.0, 0.02))
        return {
            "latency_p50_ms": 20.0 * faster * noise,
            "latency_p95_ms": 50.0 * faster * noise,
            "latency_p99_ms": 80.0 * faster * noise,
            "throughput_rps": 400.0,
            "error_rate": 0.0,
            "memory_peak_mb": 100.0,
            "cpu_ms_per_request": 2.0,
            "cost_per_mreq_usd": 0.02,
        }

    return Machinery(backend=backend, trials=ScriptedTrials(response), quiet=NoQuiet())


def merge(world: World, number: int) -> str:
    """Merges pull request `number` into main in the remote, as GitHub's merge button does."""
    from testing.repos import git

    branch = world.fake.pull(number)["head"]["ref"]
    git(world.checkout, "fetch", "--quiet", "origin", branch)
    git(
        world.checkout,
        "merge",
        "--quiet",
        "--no-ff",
        "-m",
        f"Merge pull request #{number}",
        "FETCH_HEAD",
    )
    git(world.checkout, "push", "--quiet", "origin", "main")
    sha = world.head()
    world.fake.merge_pull(number, sha)
    return sha


def open_by_hand(world: World, run: RunResult, slug: str) -> int:
    """A mutbot pull request for `run`'s candidate `slug` as an earlier mutbot opened it,
    whatever conflicts with it (publishing now would not open two that conflict)."""
    from mutbot.github.body import pr_body
    from mutbot.github.publish import branch_name
    from testing.repos import git

    candidate = next(c for c in run.candidates if c.slug == slug)
    branch = branch_name(candidate)
    git(world.checkout, "checkout", "--quiet", "-b", branch)
    patch = world.checkout.parent / f"{slug}.diff"
    patch.write_text(candidate.diff)
    git(world.checkout, "apply", str(patch))
    git(world.checkout, "commit", "--quiet", "-am", candidate.title)
    git(world.checkout, "push", "--quiet", "origin", branch)
    git(world.checkout, "checkout", "--quiet", "main")
    body = pr_body(candidate, run, branch=branch, reproduce="mutbot run")
    ledger = BranchLedger(world.checkout)
    ledger.append(evaluated(run))
    return world.fake.add_pull(
        branch, title=f"mutbot: {candidate.title}", body=body, labels=("mutbot",)
    )
