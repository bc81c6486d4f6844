"""Tests for src/mutbot/config.py: loading .mutbot.yml, one exact line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.cli import main
from mutbot.config import Config, check_paths, find_config, load_config
from mutbot.errors import ConfigError
from mutbot.run.options import RunOptions, load_inputs

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pricing" / ".mutbot.yml"

MINIMAL = "version: 1\ntargets: [Dockerfile]\nload:\n  locustfile: loadtest/locustfile.py\n"

TOP_KEYS = (
    "version, targets, protected, sandbox, tests, load, objective, cost, policy, judge, "
    "propose, search, llm, production"
)
LOAD_KEYS = (
    "locustfile, users, spawn_rate, duration, warmup, arrival_rate, warmup_requests, "
    "min_requests, max_duration, fraction"
)
SANDBOX_KEYS = (
    "dockerfile, context, build, command, entrypoint, env, throwaway_env, local_command, port, "
    "health, cpus, memory, startup_timeout, build_timeout, network, services, reset, compose, "
    "service"
)
OBJECTIVES = (
    "throughput_rps, latency_p50_ms, latency_p95_ms, latency_p99_ms, "
    "cpu_ms_per_request, cpu_cores_mean, memory_peak_mb, cost_month_usd, cost_per_mreq_usd, "
    "cost_limits_per_mreq_usd, healthy_seconds, image_size_mb, image_compressed_mb, build_seconds"
)
METRIC_NAMES = (
    "throughput_rps, error_rate, latency_p50_ms, latency_p95_ms, latency_p99_ms, "
    "cpu_ms_per_request, cpu_cores_mean, memory_peak_mb, cost_month_usd, cost_per_mreq_usd, "
    "cost_limits_per_mreq_usd, healthy_seconds, requests, image_size_mb, "
    "image_compressed_mb, build_seconds"
)

FULL = """\
version: 1
targets: [Dockerfile, "config/*.ini"]
protected: [".github/**", "secrets/**"]
sandbox:
  dockerfile: docker/Dockerfile
  context: docker
  port: 9000
  health: /ready
  local_command: python app.py
  cpus: 0.5
  memory: 256m
  startup_timeout: 1m30s
  network: loopback
tests:
  command: pytest -q
  timeout: 2m
load:
  locustfile: loadtest/locustfile.py
  users: 50
  spawn_rate: 10
  duration: 500ms
  warmup: 1.5
  arrival_rate: 40
objective:
  primary: throughput_rps
  also: [cost_per_mreq_usd]
  guardrails: {error_rate: 0.05, latency_p99_ms: 0.2, latency_p50_ms: null, memory_peak_mb: 0.3}
  memory_ceiling: 90%
cost: {vcpu_hour_usd: 0.05, gb_hour_usd: 0.005}
policy: {max_changed_lines: 50, max_files: 3}
judge:
  alpha: 0.05
  min_effect: 10%
  pairs: 12
  screen_pairs: 3
  confirm_top: 2
  aa_pairs: 0
  max_reruns: 1
  gates: {confidence: 0.9, risk: 4, complexity: 6}
"""


def write(folder: Path, text: str, name: str = ".mutbot.yml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


def test_full_file_converts_human_units(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    assert config.targets == ["Dockerfile", "config/*.ini"]
    assert config.protected == [".github/**", "secrets/**"]
    assert config.sandbox.dockerfile == "docker/Dockerfile"
    assert config.sandbox.context == "docker"
    assert config.sandbox.port == 9000
    assert config.sandbox.health == "/ready"
    assert config.sandbox.local_command == "python app.py"
    assert config.sandbox.cpus == 0.5
    assert config.sandbox.memory == 268435456
    assert config.sandbox.startup_timeout == 90.0
    assert config.sandbox.network == "loopback"
    assert config.tests.command == "pytest -q"
    assert config.tests.timeout == 120.0
    assert config.load.locustfile == "loadtest/locustfile.py"
    assert config.load.users == 50
    assert config.load.spawn_rate == 10.0
    assert config.load.duration == 0.5
    assert config.load.warmup == 1.5
    assert config.load.arrival_rate == 40.0
    assert config.objective.primary == "throughput_rps"
    assert config.objective.also == ["cost_per_mreq_usd"]
    assert config.objective.limits() == {
        "error_rate": 0.05,
        "latency_p95_ms": 0.1,
        "latency_p99_ms": 0.2,
        "cpu_ms_per_request": 0.1,
        "cost_per_mreq_usd": 0.1,
        "memory_peak_mb": 0.3,  # the relative rule for memory, asked for by name
    }
    assert config.objective.memory_ceiling == 0.9
    judge = config.judge
    assert (judge.alpha, judge.min_effect, judge.pairs, judge.screen_pairs) == (0.05, 0.1, 12, 3)
    assert (judge.confirm_top, judge.aa_pairs, judge.max_reruns) == (2, 0, 1)
    assert (judge.gates.confidence, judge.gates.risk, judge.gates.complexity) == (0.9, 4, 6)
    assert config.cost.vcpu_hour_usd == 0.05
    assert config.cost.gb_hour_usd == 0.005
    assert config.policy.max_changed_lines == 50
    assert config.policy.max_files == 3


def test_minimal_file_fills_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert config.version == 1
    assert config.protected == [".github/**"]
    sandbox = config.sandbox
    assert (sandbox.dockerfile, sandbox.context, sandbox.port) == ("Dockerfile", ".", 8080)
    assert (sandbox.health, sandbox.command, sandbox.cpus) == ("/healthz", None, 1.0)
    assert sandbox.memory == 256 * 1024**2
    assert sandbox.startup_timeout == 30.0
    assert sandbox.network == "isolated"
    assert (config.tests.command, config.tests.timeout) == (None, 120.0)
    load = config.load
    assert (load.users, load.spawn_rate, load.duration, load.warmup, load.arrival_rate) == (
        None,  # neither users nor a rate: calibrated (test_calibrate.py)
        20.0,
        None,
        None,
        None,
    )
    assert (load.warmup_requests, load.min_requests, load.max_duration, load.fraction) == (
        None,
        None,
        20.0,
        0.5,
    )
    assert config.objective.primary == "latency_p95_ms"
    assert config.objective.limits() == {
        "error_rate": 0.001,
        "throughput_rps": 0.1,
        "latency_p50_ms": 0.1,
        "latency_p99_ms": 0.1,
        "cpu_ms_per_request": 0.1,
        "cost_per_mreq_usd": 0.1,
    }
    assert config.objective.memory_ceiling == 0.8  # memory by headroom, not +10%
    judge = config.judge
    assert (judge.alpha, judge.min_effect, judge.pairs, judge.screen_pairs) == (0.01, 0.05, 10, 4)
    assert (judge.confirm_top, judge.aa_pairs, judge.max_reruns) == (3, 4, 2)
    assert (config.cost.vcpu_hour_usd, config.cost.gb_hour_usd) == (0.04048, 0.004445)
    assert (config.policy.max_changed_lines, config.policy.max_files) == (200, 10)


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(ValueError):
        config.load.users = 9  # type: ignore[misc]


def test_example_project_config_loads() -> None:
    config = load_config(EXAMPLE)
    assert isinstance(config, Config)
    assert config.targets == ["Dockerfile", "config/*.ini"]
    assert config.load.locustfile == "loadtest/locustfile.py"
    assert config.load.duration == 3.0
    assert config.load.warmup == 1.0
    assert (config.judge.pairs, config.judge.confirm_top, config.judge.alpha) == (8, 2, 0.01)
    assert config.sandbox.memory == 268435456
    assert config.sandbox.startup_timeout == 30.0
    assert config.objective.primary == "latency_p95_ms"


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        pytest.param(
            MINIMAL + "targts: [x]\n",
            [f"targts: unknown key; did you mean 'targets'? expected one of {TOP_KEYS}"],
            id="top-level-unknown-close",
        ),
        pytest.param(
            MINIMAL + "zzzzz: 1\n",
            [f"zzzzz: unknown key; expected one of {TOP_KEYS}"],
            id="top-level-unknown-far",
        ),
        pytest.param(
            MINIMAL + "  durations: 3\n",
            [f"load.durations: unknown key; did you mean 'duration'? expected one of {LOAD_KEYS}"],
            id="nested-unknown-close",
        ),
        pytest.param(
            MINIMAL + "  qqqq: 3\n",
            [f"load.qqqq: unknown key; expected one of {LOAD_KEYS}"],
            id="nested-unknown-far",
        ),
        pytest.param(
            MINIMAL + "sandbox:\n  memroy: 1g\n",
            [f"sandbox.memroy: unknown key; did you mean 'memory'? expected one of {SANDBOX_KEYS}"],
            id="sandbox-unknown-close",
        ),
        pytest.param(
            MINIMAL + "sandbox:\n  cpus: lots\n",
            ["sandbox.cpus: expected a number, got 'lots'"],
            id="number",
        ),
        pytest.param(
            MINIMAL + "  users: 2.5\n",
            ["load.users: expected a whole number, got 2.5"],
            id="whole-number-fraction",
        ),
        pytest.param(
            MINIMAL + "  users: many\n",
            ["load.users: expected a whole number, got 'many'"],
            id="whole-number-text",
        ),
        pytest.param(
            "version: 1\ntargets: Dockerfile\nload:\n  locustfile: l.py\n",
            ["targets: expected a list, got 'Dockerfile'"],
            id="list",
        ),
        pytest.param(
            "version: 1\ntargets: [1]\nload:\n  locustfile: l.py\n",
            ["targets.0: expected a string, got 1"],
            id="list-item-string",
        ),
        pytest.param(
            "version: 1\ntargets: [Dockerfile]\nload: 3\n",
            ["load: expected a mapping, got 3"],
            id="mapping-section",
        ),
        pytest.param(
            MINIMAL + "objective:\n  guardrails: [error_rate]\n",
            ["objective.guardrails: expected a mapping, got ['error_rate']"],
            id="mapping-field",
        ),
        pytest.param(
            MINIMAL + "objective:\n  guardrails: {error_rate: high}\n",
            ["objective.guardrails.error_rate: expected a number, got 'high'"],
            id="guardrail-limit-number",
        ),
        pytest.param(
            MINIMAL + "objective:\n  memory_ceiling: 0\n",
            [
                "objective.memory_ceiling: expected a share of the memory limit above 0 (0.8 or "
                "80%), or null"
            ],
            id="memory-ceiling-zero",
        ),
        pytest.param(
            MINIMAL + "objective:\n  memory_ceiling: 120%\n",
            ["objective.memory_ceiling: expected a fraction from 0 to below 1, got '120%'"],
            id="memory-ceiling-above-the-limit",
        ),
        pytest.param(
            MINIMAL + "  duration: soon\n",
            ["load.duration: expected a duration such as 30s, 500ms or 1m30s, got 'soon'"],
            id="bad-duration",
        ),
        pytest.param(
            MINIMAL + "sandbox:\n  startup_timeout: 1m30\n",
            [
                "sandbox.startup_timeout: expected a duration such as 30s, 500ms or 1m30s, "
                "got '1m30'"
            ],
            id="bad-duration-trailing-number",
        ),
        pytest.param(
            MINIMAL + "  duration: 0s\n",
            ["load.duration: expected a duration above zero"],
            id="zero-duration",
        ),
        pytest.param(
            MINIMAL + "sandbox:\n  memory: lots\n",
            ["sandbox.memory: expected a size such as 256m, 512MiB or 1g, got 'lots'"],
            id="bad-size",
        ),
        pytest.param(
            MINIMAL + "sandbox:\n  memory: 0\n",
            ["sandbox.memory: expected a size above zero, got 0"],
            id="zero-size",
        ),
        pytest.param(
            MINIMAL + "sandbox:\n  cpus: 0\n",
            ["sandbox.cpus: expected a value above 0.0, got 0"],
            id="cpus-zero",
        ),
        pytest.param(
            MINIMAL + "sandbox:\n  port: 70000\n",
            ["sandbox.port: expected a value at most 65535, got 70000"],
            id="port-too-high",
        ),
        pytest.param(
            MINIMAL + "sandbox:\n  port: 0\n",
            ["sandbox.port: expected a value at least 1, got 0"],
            id="port-zero",
        ),
        pytest.param(
            MINIMAL + "  users: 0\n",
            ["load.users: expected a value at least 1, got 0"],
            id="users-zero",
        ),
        pytest.param(
            MINIMAL + "  users: 10001\n",
            ["load.users: expected a value at most 10000, got 10001"],
            id="users-too-many",
        ),
        pytest.param(
            MINIMAL + "policy:\n  max_files: 0\n",
            ["policy.max_files: expected a value at least 1, got 0"],
            id="max-files-zero",
        ),
        pytest.param(
            MINIMAL + "sandbox:\n  health: healthz\n",
            ["sandbox.health: expected an HTTP path starting with '/', got 'healthz'"],
            id="health-path",
        ),
        pytest.param(
            MINIMAL + "sandbox:\n  network: host\n",
            ["sandbox.network: expected 'isolated' or 'loopback', got 'host'"],
            id="network",
        ),
        pytest.param(
            "protected: []\n",
            [
                "version: required key is missing",
                "targets: required key is missing",
                "load: required key is missing",
            ],
            id="missing-required-keys",
        ),
        pytest.param(
            "version: 1\ntargets: [Dockerfile]\nload:\n  users: 3\n",
            ["load.locustfile: required key is missing"],
            id="missing-locustfile",
        ),
        pytest.param(
            "version: 2\ntargets: [Dockerfile]\nload:\n  locustfile: l.py\n",
            ["version: expected 1 (the only config version), got 2"],
            id="version-2",
        ),
        pytest.param(
            "version: 1\ntargets: []\nload:\n  locustfile: l.py\n",
            ["targets: expected a list with at least one entry"],
            id="empty-targets",
        ),
        pytest.param(
            MINIMAL + "objective:\n  primary: speed\n",
            [f"objective.primary: expected one of {OBJECTIVES}, got 'speed'"],
            id="unknown-primary",
        ),
        pytest.param(
            MINIMAL + "objective:\n  guardrails: {latency: 5}\n",
            [f"objective.guardrails: unknown metric 'latency'; expected one of {METRIC_NAMES}"],
            id="unknown-guardrail",
        ),
        pytest.param(
            "version: 2\ntargets: []\nsandbox:\n  port: 0\n",
            [
                "version: expected 1 (the only config version), got 2",
                "targets: expected a list with at least one entry",
                "sandbox.port: expected a value at least 1, got 0",
                "load: required key is missing",
            ],
            id="several-problems-one-line-each",
        ),
    ],
)
def test_invalid_config_names_file_key_and_expectation(
    tmp_path: Path, text: str, problems: list[str]
) -> None:
    path = write(tmp_path, text)
    assert error_of(path) == "\n".join(f"{path}: {problem}" for problem in problems)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param(
            MINIMAL + "sandbox:\n  port: true\n",
            "sandbox.port: expected a whole number, got True",
            id="port-true",
        ),
        pytest.param(
            MINIMAL + "  users: yes\n",
            "load.users: expected a whole number, got True",
            id="users-yes",
        ),
        pytest.param(
            MINIMAL + "sandbox:\n  cpus: on\n",
            "sandbox.cpus: expected a number, got True",
            id="cpus-on",
        ),
        pytest.param(
            "version: true\ntargets: [Dockerfile]\nload:\n  locustfile: l.py\n",
            "version: expected 1 (the only config version), got True",
            id="version-true",
        ),
    ],
)
def test_booleans_are_not_numbers(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}: {problem}"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("version: 1\n  targets: x\n", "line 2, column 10: mapping values are not allowed here"),
        (
            "version: 1\ntargets: [Dockerfile\n",
            "line 3, column 1: expected ',' or ']', but got '<stream end>'",
        ),
    ],
)
def test_invalid_yaml_names_line_and_column(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}: not valid YAML at {where}"


@pytest.mark.parametrize("text", ["- version: 1\n- targets: [x]\n", "", "just a string\n"])
def test_file_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}: expected a mapping of keys (version, targets, load, ...)"


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yml"
    assert error_of(path) == f"{path}: cannot read: No such file or directory"


def test_find_config_without_any_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        find_config(tmp_path)
    assert str(info.value) == (
        f"{tmp_path}: no config file; create .mutbot.yml (see docs/config.md) or .github/mutbot.yml"
    )
    assert info.value.exit_code == 3


def test_find_config_falls_back_to_github_folder(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL, ".github/mutbot.yml")
    assert find_config(tmp_path) == path
    assert load_config(find_config(tmp_path)).load.locustfile == "loadtest/locustfile.py"


def test_find_config_prefers_root_file(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, ".github/mutbot.yml")
    root = write(tmp_path, MINIMAL)
    assert find_config(tmp_path) == root


def test_find_config_ignores_a_folder_named_like_the_file(tmp_path: Path) -> None:
    (tmp_path / ".mutbot.yml").mkdir()
    path = write(tmp_path, MINIMAL, ".github/mutbot.yml")
    assert find_config(tmp_path) == path


def test_an_unreachable_alpha_is_a_clear_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "judge: {pairs: 6}\n")
    assert error_of(path) == (
        f"{path}: judge: with 6 pairs the exact test can never reach alpha 0.01 (smallest p = "
        "1/2^6; the confidence interval needs alpha/2 and 3 confirmed candidates multiply p by "
        "up to 3); use pairs: 9 or more"
    )
    load_config(write(tmp_path, MINIMAL + "judge: {pairs: 6, alpha: 0.05, confirm_top: 1}\n"))


# Hardening: hostile files are one clear error, in bounded time and memory.

# 500 bytes that PyYAML expands into 9^9 strings, each echoed by the error (312 MB)
LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + LAUGHS + "protected: *i\n"


def test_yaml_aliases_are_refused_naming_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, LAUGHS)
    assert error_of(path) == (
        f"{path}: at line 1, column 4: anchors and aliases (&name, *name) are not supported; "
        "write the value out"
    )


def test_an_alias_alone_is_refused_too(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "protected: *x\n")
    assert error_of(path).startswith(f"{path}: at line 5, column 12: anchors and aliases")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("x: " + "[" * 10_000, "at line 1, column 35: nested deeper than 32 levels"),
        ("x: " + "9" * 5000, "at line 1, column 4: cannot read this value: Exceeds the limit"),
        ("x: 2024-13-45\n", "at line 1, column 4: cannot read this value: month must be in 1..12"),
        ("x: !!python/object/apply:os.system [ls]\n", "not valid YAML at line 1, column 4: "),
    ],
    ids=["deep-nesting", "5000-digits", "impossible-date", "python-tag"],
)
def test_yaml_that_python_cannot_build_is_an_error_not_a_crash(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write(tmp_path, text)
    assert error_of(path).startswith(f"{path}: {problem}")


def test_a_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / ".mutbot.yml"
    path.write_bytes(MINIMAL.encode() + b"# \xff\n")
    assert error_of(path) == f"{path}: not UTF-8 text (byte {len(MINIMAL) + 3})"


def test_a_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "#" * 70_000 + "\n")
    assert error_of(path) == f"{path}: larger than 64 KiB; a config file is a few kilobytes"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("sandbox: {cpus: .inf}", "sandbox.cpus: expected a finite number, got inf"),
        ("sandbox: {cpus: .nan}", "sandbox.cpus: expected a finite number, got nan"),
        ("sandbox: {cpus: 300}", "sandbox.cpus: expected a value at most 256.0, got 300"),
        (
            "sandbox: {memory: " + "9" * 400 + "}",
            "sandbox.memory: expected a size of at most 1024g, got a huge number",
        ),
        (
            "sandbox: {memory: " + "9" * 400 + "g}",
            "sandbox.memory: expected a size of at most 1024g, got "
            "'999999999999999999999999999...999999999999999999999999999g'",
        ),
        (
            "sandbox: {startup_timeout: 25h}",
            "sandbox.startup_timeout: expected a duration of at most 24h, got '25h'",
        ),
        (
            "tests: {timeout: " + "9" * 400 + "}",
            "tests.timeout: expected a duration of at most 24h, got a huge number",
        ),
        ("llm: {timeout: .inf}", "llm.timeout: expected a duration of at most 24h, got inf"),
        (
            "judge: {min_effect: " + "9" * 400 + "}",
            "judge.min_effect: expected a fraction from 0 to below 1, got a huge number",
        ),
        (
            "objective: {guardrails: {error_rate: .inf}}",
            "objective.guardrails.error_rate: expected a finite number, got inf",
        ),
        ("cost: {gb_hour_usd: .inf}", "cost.gb_hour_usd: expected a finite number, got inf"),
        (
            "production: {prometheus: p, queries: {error_rate: q}, watch_for: 91d}",
            "production.watch_for: expected a duration of at most 90d, got '91d'",
        ),
    ],
)
def test_numbers_are_finite_and_in_range(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, MINIMAL + text + "\n")
    assert error_of(path) == f"{path}: {problem}"


def test_production_windows_may_be_longer_than_a_day(tmp_path: Path) -> None:
    text = "production: {prometheus: p, queries: {error_rate: q}, window: 2d, watch_for: 90d}\n"
    production = load_config(write(tmp_path, MINIMAL + text)).production
    assert production is not None
    assert (production.window, production.watch_for) == (48 * 3600.0, 90 * 86400.0)


def test_an_alpha_too_small_for_any_pairs_is_an_error_not_an_overflow(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "judge: {alpha: 5.0e-324}\n")
    assert "can never reach alpha 4.94066e-324" in error_of(path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "version: 1\ntargets: [" + "a" * 257 + "]\nload: {locustfile: l.py}\n",
            "targets.0: a glob has at most 256 characters, got 257",
        ),
        (
            "version: 1\ntargets: ['']\nload: {locustfile: l.py}\n",
            "targets.0: expected a path glob, got an empty string",
        ),
        (
            MINIMAL + "protected: ['" + "**/" * 100 + "x']\n",
            "protected.0: a glob has at most 256 characters, got 301",
        ),
        (
            MINIMAL + "propose: {keep: ['" + "a" * 300 + ":k']}\n",
            "propose.keep.0: a glob has at most 256 characters, got 300",
        ),
        (
            MINIMAL + "propose: {keep: [server.threads]}\n",
            "propose.keep.0: expected FILE:KEY, e.g. config/server.ini:server.threads, got "
            "'server.threads'",
        ),
        (
            "version: 1\ntargets: [" + ", ".join(["a"] * 257) + "]\nload: {locustfile: l.py}\n",
            "targets: expected a list of at most 256 entries",
        ),
    ],
)
def test_globs_are_bounded_where_the_config_is_read(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}: {problem}"


def test_an_error_echoes_a_value_cut_short(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "sandbox: {health: " + "x" * 60_000 + "}\n")
    message = error_of(path)
    assert message.startswith(f"{path}: sandbox.health: expected an HTTP path starting with '/'")
    assert len(message) < len(str(path)) + 150


def test_an_error_lists_at_most_twenty_problems(tmp_path: Path) -> None:
    text = "version: 1\ntargets: [" + ", ".join(["1"] * 100) + "]\nload: {locustfile: l.py}\n"
    path = write(tmp_path, text)
    lines = error_of(path).splitlines()
    assert len(lines) == 21
    assert lines[0] == f"{path}: targets.0: expected a string, got 1"
    assert lines[-1] == f"{path}: … and 80 more problems"


def project_with(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "loadtest").mkdir()
    (tmp_path / "loadtest" / "locustfile.py").write_text("")
    (tmp_path / "outside").symlink_to("/etc")
    return write(tmp_path, MINIMAL + extra)


@pytest.mark.parametrize(
    ("extra", "key", "value"),
    [
        ("sandbox: {context: ..}\n", "sandbox.context", "'..'"),
        ("sandbox: {dockerfile: /etc/passwd}\n", "sandbox.dockerfile", "'/etc/passwd'"),
        ("sandbox: {dockerfile: outside/passwd}\n", "sandbox.dockerfile", "'outside/passwd'"),
        ("propose: {prompts: ../prompts}\n", "propose.prompts", "'../prompts'"),
    ],
)
def test_paths_must_resolve_inside_the_project(
    tmp_path: Path, extra: str, key: str, value: str
) -> None:
    path = project_with(tmp_path, extra)
    with pytest.raises(ConfigError) as info:
        check_paths(load_config(path), tmp_path, path)
    assert str(info.value).startswith(
        f"{path}: {key}: must stay inside the project folder {tmp_path.resolve()}, got {value}"
    )


def test_a_locustfile_linked_outside_is_refused_by_validate_and_by_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project_with(tmp_path, "")
    (tmp_path / "loadtest" / "locustfile.py").unlink()
    (tmp_path / "loadtest" / "locustfile.py").symlink_to("/etc/hostname")
    assert main(["validate", "--repo", str(tmp_path)]) == 3
    assert f"{path}: load.locustfile: must stay inside" in capsys.readouterr().err
    with pytest.raises(ConfigError, match=r"load\.locustfile: must stay inside"):
        load_inputs(RunOptions(project=tmp_path))


def test_paths_inside_the_project_pass(tmp_path: Path) -> None:
    path = project_with(
        tmp_path, "sandbox: {context: ./loadtest/.., dockerfile: a/../Dockerfile}\n"
    )
    check_paths(load_config(path), tmp_path, path)


def test_command_line_overrides_are_validated_like_the_file(tmp_path: Path) -> None:
    """`--count 999` is refused as `propose.count: 999` would be (model_copy skipped that)."""
    from testing.repos import make_repo

    tmp_path = make_repo(tmp_path / "repo")
    with pytest.raises(ConfigError, match=r"command line: propose\.count: .*at most 50"):
        load_inputs(RunOptions(project=tmp_path, count=999))
    with pytest.raises(ConfigError, match=r"propose\.radical"):
        load_inputs(RunOptions(project=tmp_path, radical_share=7.0))
    config, _ = load_inputs(RunOptions(project=tmp_path, count=3, radical_share=0.5))
    assert (config.propose.count, config.propose.radical) == (3, 0.5)


def test_the_search_section_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "search: {trials: 0, budget: 20m, sampler: gp}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "search.trials" in str(caught.value) and "search.sampler" in str(caught.value)
    path = write(tmp_path, MINIMAL + "search: {trials: 12, budget: 20m}\n")
    assert (load_config(path).search.trials, load_config(path).search.budget) == (12, 1200.0)
