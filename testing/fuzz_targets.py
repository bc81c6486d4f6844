"""The parsers of untrusted input, each with a generator of hostile inputs
(testing.hostile_inputs) and the call that must never crash, for the property tests
(tests/test_parsers_property.py) and benchmarks/fuzz.py.

`run(input)` returns "accepted" or "rejected" (mutbot's own error, a malformed event ignored,
a damaged ledger line counted); any other exception, or a result of the wrong shape, is a
crash.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mutbot import globs
from mutbot.candidates import load_candidates
from mutbot.cli import cmd_explain
from mutbot.config import check_paths, load_config
from mutbot.errors import MutbotError
from mutbot.github.body import marker_data, pr_body, read_marker
from mutbot.github.events import MAX_GLOBS, CommandError, decide, parse_command
from mutbot.github.types import Command, Decision
from mutbot.ledger.model import Entry, evaluated, parse
from mutbot.ledger.views import export_jsonl, history, show
from mutbot.results import Noise
from testing import hostile_inputs as hostile
from testing.records import candidate, pairs, run
from testing.repos import EXAMPLE
from testing.webhooks import WEBHOOKS


@dataclass(frozen=True)
class Target:
    name: str
    generate: Callable[[random.Random], Any]
    run: Callable[[Any], str]
    describe: Callable[[Any], str]


def short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:100] + f"… ({len(text)} chars)"


# -- .mutbot.yml


MINIMAL = {
    "version": 1,
    "targets": ["Dockerfile"],
    "load": {"locustfile": "loadtest/locustfile.py"},
}
FULL = {
    **MINIMAL,
    "sandbox": {"context": ".", "cpus": 0.5, "memory": "256m", "startup_timeout": "1m30s"},
    "tests": {"command": "pytest -q", "timeout": "2m"},
    "objective": {"primary": "throughput_rps", "guardrails": {"error_rate": 0.05}},
    "judge": {"alpha": 0.05, "min_effect": "10%", "pairs": 12, "gates": {"risk": 4}},
    "policy": {"max_prs_per_week": 3, "quiet_hours": "22:00-06:00", "reviewers": ["a"]},
    "production": {
        "prometheus": "http://127.0.0.1:9",
        "queries": {"latency_p95_ms": "q"},
        "window": "24h",
        "watch_for": "168h",
    },
    "propose": {"count": 4, "radical": "25%", "prompts": "prompts", "keep": ["a.ini:s.k"]},
    "llm": {"max_usd": 1.5, "timeout": "5m"},
}
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def config_target(workdir: Path) -> Target:
    project = workdir / "project"
    (project / "loadtest").mkdir(parents=True, exist_ok=True)
    link = project / "outside"
    if not link.is_symlink():
        link.symlink_to("/etc")
    seeds = [MINIMAL, FULL, yaml.safe_load((EXAMPLE / ".mutbot.yml").read_text())]
    whole = (LAUGHS, "x: " + "[" * 5000, "version: 1\n" + "#" * 70_000, "- 1\n- 2\n")
    path = project / ".mutbot.yml"

    def generate(rng: random.Random) -> bytes:
        return hostile.encode(
            rng, hostile.structured(rng, seeds, hostile.YAML_RAW, hostile.to_yaml, whole)
        )

    def check(data: bytes) -> str:
        path.write_bytes(data)
        try:
            config = load_config(path)
            check_paths(config, project, path)
        except MutbotError as exc:
            _one_error(exc)
            return "rejected"
        return "accepted"

    return Target("config loader", generate, check, short)


# -- candidates files


def candidates_target(workdir: Path) -> Target:
    seeds: list[Any] = [json.loads((EXAMPLE / "candidates.json").read_text())]
    seeds.append(seeds[0][:1])

    def generate(rng: random.Random) -> tuple[str, bytes]:
        text = hostile.structured(rng, seeds, hostile.JSON_RAW, hostile.to_json)
        return rng.choice(["c.json", "c.json", "c.json", "c.diff"]), hostile.encode(rng, text)

    def check(item: tuple[str, bytes]) -> str:
        path = workdir / item[0]
        path.write_bytes(item[1])
        try:
            found = load_candidates(path)
        except MutbotError as exc:
            _one_error(exc)
            return "rejected"
        assert found and all(c.title and c.fingerprint for c in found)
        return "accepted"

    return Target("candidates loader", generate, check, short)


# -- webhook events and the /mutate grammar

EVENTS = ("push", "schedule", "workflow_dispatch", "issue_comment", "pull_request", "release", "")
BODIES = (
    "/mutate",
    "/mutate help",
    "/mutate revert",
    "/mutate config/*.ini n=4 radical",
    "/mutate Dockerfile, `nginx/*.conf` incremental",
    "just a comment",
)
WORDS = (
    "/mutate", "help", "revert", "n=3", "n=0", "n=20", "n=99999", "n=", "n=١٢", "incremental",
    "radical", "radcal", "config/*.ini", "**/" * 30 + "x", "`x.ini`", ",", " ", "\t", "\n",
    "@bob", "a;rm", "x" * 300, "..", "/etc", "Dockerfile", "count=3", "./a.ini", "**", "\u2028",
)  # fmt: skip


def _payloads() -> list[dict[str, Any]]:
    found = [json.loads(p.read_text()) for p in sorted(WEBHOOKS.glob("*.json"))]
    comment = next(p for p in found if "comment" in p)
    for body in BODIES:
        variant = json.loads(json.dumps(comment))
        variant["comment"]["body"] = body
        variant["issue"]["pull_request"] = {"url": "u", "merged_at": "2024-01-01T00:00:00Z"}
        found.append(variant)
    found.append({"schedule": "17 3 * * 1"})
    return found


def command_body(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return hostile.damage(rng, rng.choice(BODIES))
    words = [rng.choice(WORDS) for _ in range(rng.randrange(1, 25))]
    return ("/mutate " if rng.random() < 0.8 else "") + " ".join(words)


def events_target() -> Target:
    seeds = _payloads()

    def generate(rng: random.Random) -> tuple[str, Any]:
        name = rng.choice(EVENTS)
        if rng.random() < 0.1:
            return name, hostile.json_value(rng)
        payload = hostile.mutate_tree(rng, rng.choice(seeds), hostile.JSON_RAW)
        comment = payload.get("comment") if isinstance(payload, dict) else None
        if isinstance(comment, dict) and rng.random() < 0.5:
            comment["body"] = command_body(rng)
        return name, payload

    def check(item: tuple[str, Any]) -> str:
        decision = decide(item[0], item[1])
        check_decision(decision)
        malformed = "malformed payload" in decision.reason or "not a JSON object" in decision.reason
        return "rejected" if malformed else "accepted"

    return Target("event classifier", generate, check, short)


def check_decision(d: Decision) -> None:
    """The types a caller relies on, whatever the payload said."""
    assert isinstance(d, Decision)
    assert isinstance(d.run, bool) and isinstance(d.trigger, str)
    assert isinstance(d.reason, str) and "\n" not in d.reason and len(d.reason) < 1000
    assert d.reply is None or isinstance(d.reply, str)
    if d.command is not None:
        check_command(d.command)
    if d.comment is not None:
        ref = d.comment
        assert type(ref.issue_number) is int and ref.issue_number > 0
        assert type(ref.comment_id) is int and ref.comment_id > 0
        assert isinstance(ref.author, str) and isinstance(ref.is_pull_request, bool)
        assert ref.pull_merged in (None, True, False)
    o = d.overrides
    assert o.count is None or (type(o.count) is int and 1 <= o.count <= 50)
    assert o.proposer is None or isinstance(o.proposer, str)
    assert o.kind in (None, "incremental", "radical")
    assert isinstance(o.targets, tuple) and len(o.targets) <= MAX_GLOBS
    for glob in o.targets:
        globs.check(glob)


def check_command(c: Command) -> None:
    assert c.action in ("mutate", "help", "revert")
    assert c.count is None or (type(c.count) is int and 1 <= c.count <= 20)
    assert c.kind in (None, "incremental", "radical")
    assert isinstance(c.globs, tuple) and len(c.globs) <= MAX_GLOBS
    for glob in c.globs:
        globs.check(glob)


def grammar_target() -> Target:
    def check(body: str) -> str:
        try:
            command = parse_command(body)
        except CommandError as exc:
            assert "\n" not in str(exc)
            return "rejected"
        check_command(command)
        return "accepted"

    return Target("/mutate grammar", command_body, check, short)


# -- the ledger


def ledger_seeds() -> list[dict[str, Any]]:
    good = candidate("use-4-workers")
    result = run([good, candidate("b", rejected_at=("policy", "protected"))], [good.slug])
    entries = evaluated(result)
    fp = entries[0].fingerprint
    production = {"verdict": "worse", "change": 0.2, "revert": True, "verdicts": [{"change": 1}]}
    entries += [
        Entry(event="pr-opened", fingerprint=fp, pr_number=7, pr_url="u", branch="mutbot/x"),
        Entry(event="outcome", fingerprint=fp, outcome="merged", merge_sha="ab" * 20),
        Entry(event="production", fingerprint=fp, production=production),
        Entry(event="revert-opened", fingerprint=fp, revert_pr=9),
    ]
    return [json.loads(e.line()) for e in entries]


def ledger_target() -> Target:
    seeds = ledger_seeds()

    def generate(rng: random.Random) -> bytes:
        lines = []
        for _ in range(rng.randint(1, 6)):
            if rng.random() < 0.3:
                lines.append(json.dumps(rng.choice(seeds)))
            else:
                text = hostile.structured(rng, seeds, hostile.JSON_RAW, _compact)
                lines.append(text.replace("\n", " ") if rng.random() < 0.8 else text)
        tail = "\n" if rng.random() < 0.9 else ""
        return hostile.encode(rng, "\n".join(lines) + tail)

    def check(data: bytes) -> str:
        parsed = parse(data)
        assert parsed.damaged + parsed.newer + len(parsed.entries) <= data.count(b"\n") + 1
        show(parsed.entries)
        show(parsed.entries, as_json=True)
        export_jsonl(parsed.entries)
        history(parsed.entries)
        return "rejected" if parsed.damaged or parsed.newer else "accepted"

    return Target("ledger reader", generate, check, short)


def _compact(rng: random.Random, value: Any) -> str:
    return hostile.splice(json.dumps(value, allow_nan=True), hostile.JSON_RAW)


# -- pull request markers


def marker_target() -> Target:
    good = candidate("use-4-workers")
    result = run([good], [good.slug])
    body = pr_body(good, result, branch="mutbot/x", reproduce="mutbot run")
    text, _, _ = body.rpartition("<!-- mutbot: ")
    seeds: list[Any] = [marker_data(good, result, "mutbot/x")]

    def generate(rng: random.Random) -> str:
        if rng.random() < 0.05:
            return "<!-- mutbot: {" * rng.choice([10, 5000]) + rng.choice(["", "} -->"])
        inner = hostile.structured(rng, seeds, hostile.JSON_RAW, hostile.to_json)
        before = text if rng.random() < 0.5 else hostile.damage(rng, "text\n")
        return before + "<!-- mutbot: " + inner + rng.choice([" -->\n", " -->", "", "\n -->"])

    def check(value: str) -> str:
        found = read_marker(value)
        assert found is None or isinstance(found, dict)
        return "accepted" if found is not None else "rejected"

    return Target("PR marker reader", generate, check, short)


# -- results.json for `mutbot explain`


def explain_target(workdir: Path) -> Target:
    good = candidate("use-4-workers")
    same = candidate("same", title="No change", factor=1.0)
    blocked = candidate("b", title="Blocked", rejected_at=("policy", "app.py is protected"))
    noisy = run([good, same, blocked], [good.slug], noise=_noise())
    seeds: list[Any] = [json.loads(noisy.model_dump_json())]
    names = ("use-4-workers", "No change", "b", "0123456789ab", "missing", "")
    path = workdir / "results.json"

    def generate(rng: random.Random) -> tuple[bytes, str]:
        text = hostile.structured(rng, seeds, hostile.JSON_RAW, hostile.to_json)
        return hostile.encode(rng, text), rng.choice(names)

    def check(item: tuple[bytes, str]) -> str:
        path.write_bytes(item[0])
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                code = cmd_explain(argparse.Namespace(results=path, candidate=item[1]))
        except MutbotError as exc:
            _one_error(exc)
            return "rejected"
        assert code in (0, 1)
        return "accepted"

    return Target("explain input", generate, check, lambda item: short(item[1]) + short(item[0]))


def _noise() -> Noise:
    return Noise(metric="latency_p95_ms", pairs=pairs(1.0, n=4), spread=0.02)


# -- globs


GLOB_PARTS = ("**/", "**", "*", "?", "a", "b", "/", ".", "x.ini", "é", "[", "\\")


def globs_target() -> Target:
    def generate(rng: random.Random) -> tuple[str, str]:
        size = rng.choice([3, 10, 60, 200])
        pattern = "".join(rng.choice(GLOB_PARTS) for _ in range(rng.randrange(size)))
        path = "/".join(
            "".join(rng.choice("ab.x") for _ in range(rng.randrange(1, 8)))
            for _ in range(rng.randrange(1, rng.choice([3, 30])))
        )
        return path, pattern

    def check(item: tuple[str, str]) -> str:
        try:
            globs.check(item[1])
        except ValueError:
            return "rejected"
        assert isinstance(globs.match(item[0], item[1]), bool)
        return "accepted"

    return Target("globs matching", generate, check, short)


def all_targets(workdir: Path) -> list[Target]:
    from testing.fuzz_diffs import diff_target  # it builds on this module

    return [
        config_target(workdir),
        candidates_target(workdir),
        events_target(),
        grammar_target(),
        ledger_target(),
        marker_target(),
        explain_target(workdir),
        globs_target(),
        diff_target(),
    ]


def _one_error(exc: MutbotError) -> None:
    """A clean rejection: a short message, one line per problem, naming what was wrong."""
    text = str(exc)
    assert text and len(text) < 25_000, len(text)
    assert all(len(line) <= 1000 for line in text.splitlines())
