"""The texts `mutbot init` writes from a plan (pure): .mutbot.yml with each guess's source as a
comment and CHECK on real doubts, and a starting locustfile when the repository has none."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from mutbot.discover.dependencies import Dependency
from mutbot.discover.dockerfiles import Words
from mutbot.discover.model import Guess
from mutbot.discover.plan import Plan

MAX_TASKS = 20


def config(plan: Plan) -> str:
    lines = [
        "# mutbot's settings (docs/config.md), written by `mutbot init` from what the repository",
        "# says; each guess names where it was read. Check the lines marked CHECK, then run",
        "# `mutbot doctor`: it builds, tests, starts and loads the service once, as a run does.",
        "version: 1",
        "",
    ]
    if plan.service is not None:
        lines.append(f"# The service: {plan.service.value}, {plan.service.comment()}.")
        if plan.others:
            lines.append("# Others (`mutbot init --force --service NAME` to choose one):")
            lines += [f"#   {other}" for other in plan.others[:10]]
        lines.append("")
    lines += [
        "# Files candidates may change (globs relative to this folder; ** crosses folders).",
        "targets:",
        *(_line(f"  - {scalar(t.value)}", t) for t in plan.targets),
        "",
        "# Never read nor changed, whatever a candidate says.",
        "protected:",
        *(_line(f"  - {scalar(p.value)}", p) for p in plan.protected),
        "",
        "sandbox:",
        *_sandbox(plan),
        "",
        "tests:",
        _line(f"  command: {scalar(plan.tests.value) if plan.tests.value else 'null'}", plan.tests),
        "  timeout: 120s",
        "",
        "load:",
        _line(f"  locustfile: {scalar(plan.locustfile.value)}", plan.locustfile),
        "  # Neither users nor arrival_rate: each run measures the baseline's capacity in a",
        "  # short ramp and drives every trial open-loop at half of it, each window long enough",
        "  # for the percentile judged (docs/config.md#load). `users: 20` fixes a closed loop.",
        "",
        "objective:",
        _line("  primary: latency_p95_ms", "or throughput_rps, cpu_ms_per_request, memory_peak_mb"),
    ]
    return "\n".join(lines) + "\n"


def checks(text: str) -> int:
    """How many lines of a written config say CHECK."""
    return sum("# CHECK" in line for line in text.splitlines())


def _sandbox(plan: Plan) -> list[str]:
    lines = [
        _line(f"  dockerfile: {scalar(plan.dockerfile.value)}", plan.dockerfile),
        _line(f"  context: {scalar(plan.context.value)}", plan.context),
    ]
    if plan.target or plan.build_args:
        lines.append("  build:")
        if plan.target:
            lines.append(_line(f"    target: {scalar(plan.target.value)}", plan.target))
        if plan.build_args:
            lines.append("    args:")
            lines += [
                _line(f"      {scalar(k)}: {scalar(g.value)}", g)
                for k, g in plan.build_args.items()
            ]
    for key, run in (("entrypoint", plan.entrypoint), ("command", plan.command)):
        if run is not None:
            lines.append(_line(f"  {key}: {_words(run.value)}", run))
    if plan.env:
        lines.append("  env:")
        lines += [_line(f"    {scalar(k)}: {scalar(g.value)}", g) for k, g in plan.env.items()]
    if plan.throwaway:
        lines.append("  throwaway_env:")
        lines += [_line(f"    - {scalar(g.value)}", g) for g in plan.throwaway]
    for guess in plan.left_out:
        lines.append(_note("  ", guess))
    lines += [
        _line(f"  port: {plan.port.value}", plan.port),
        _line(f"  health: {scalar(plan.health.value)}", plan.health),
        _line(f"  cpus: {plan.cpus.value:g}", plan.cpus),
        _line(f"  memory: {scalar(plan.memory.value)}", plan.memory),
    ]
    if plan.services:
        lines.append("  services:")
        for dependency in plan.services:
            lines += _service(dependency)
    lines += [_note("  ", guess) for guess in plan.service_notes]
    return lines


def _service(dep: Dependency) -> list[str]:
    lines = [f"    {dep.name}:", _line(f"      image: {scalar(dep.image.value)}", dep.image)]
    if dep.command is not None:
        lines.append(_line(f"      command: {_words(dep.command.value)}", dep.command))
    if dep.env:
        lines.append("      env:")
        lines += [_line(f"        {scalar(k)}: {scalar(g.value)}", g) for k, g in dep.env.items()]
    if dep.health is not None:
        value = dep.health.value
        key = "port" if isinstance(value, int) else "command"
        shown = str(value) if isinstance(value, int) else _words(value)
        lines += ["      health:", _line(f"        {key}: {shown}", dep.health)]
    if dep.memory is not None:
        lines.append(_line(f"      memory: {scalar(dep.memory.value)}", dep.memory))
    lines += [f"      # left out: {_clean(item)}" for item in dep.left_out]
    return lines


def _note(indent: str, guess: Guess[str]) -> str:
    return f"{indent}# {_clean(guess.comment())}"


def _line(content: str, comment: Guess[Any] | str) -> str:
    """A line with its comment in column 29 (at least one space before `#`, or YAML would read
    the `#` as part of the value)."""
    text = comment if isinstance(comment, str) else comment.comment()
    return f"{content:<27} # {_clean(text)}"


def _clean(text: str) -> str:
    return re.sub(r"[\r\n]+", " ", text)


def _words(words: Words) -> str:
    return json.dumps(words)  # a JSON string or list is valid YAML


def scalar(value: str) -> str:
    """A YAML scalar that reads back as exactly `value`: plain when safe, else double-quoted
    with YAML's escapes for what may not appear as it is."""
    if re.fullmatch(r"[A-Za-z0-9_./][\w./-]*", value) and yaml.safe_load(value) == value:
        return value
    return '"' + "".join(_escaped(c) for c in value) + '"'


def _escaped(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if char.isprintable() and char not in "\ufeff":  # a BOM inside a value is not read back
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def locustfile(plan: Plan) -> str:
    """A locustfile with a GET task per parameter-free route read, and the health path."""
    paths: dict[str, str] = {}
    for route in plan.load_routes[:MAX_TASKS]:
        paths.setdefault(route.path, f"{route.why} in {route.source}")
    health = plan.health.value
    lines = [
        '"""Load for mutbot: a starting point written by `mutbot init`, GET requests over the',
        "routes it read in the code. mutbot measures every candidate with exactly this load, so",
        "make it the requests production serves most, in their proportions (docs/config.md,",
        '`load`)."""',
        "",
        "from locust import HttpUser, constant, task",
        "",
        "",
        "class Visitor(HttpUser):",
        "    wait_time = constant(0)",
    ]
    names: set[str] = set()
    tasks = [(p, w, 3) for p, w in paths.items() if p != health] + [(health, "the health path", 1)]
    for path, why, weight in tasks:
        name = _name(path, names)
        lines += [
            "",
            f"    @task({weight})",
            f"    def {name}(self) -> None:",
            f"        self.client.get({json.dumps(path)})  # {_clean(why)}",
        ]
    return "\n".join(lines) + "\n"


def _name(path: str, taken: set[str]) -> str:
    base = "get_" + (re.sub(r"\W+", "_", path.strip("/")).strip("_").lower() or "root")
    name, n = base[:60], 2
    while name in taken:
        name, n = f"{base[:56]}_{n}", n + 1
    taken.add(name)
    return name
