"""Tests for src/mutbot/config.py: loading .mutbot.yml, one exact line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.config import Config, find_config, load_config
from mutbot.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pricing" / ".mutbot.yml"

MINIMAL = "version: 1\ntargets: [Dockerfile]\nload:\n  locustfile: loadtest/locustfile.py\n"

TOP_KEYS = (
    "version, targets, protected, sandbox, tests, load, objective, cost, policy, judge, "
    "propose, llm, production"
)
LOAD_KEYS = "locustfile, users, spawn_rate, duration, warmup, arrival_rate"
SANDBOX_KEYS = (
    "dockerfile, context, port, health, command, cpus, memory, startup_timeout, build_timeout, "
    "network"
)
OBJECTIVES = (
    "throughput_rps, latency_p50_ms, latency_p95_ms, latency_p99_ms, "
    "cpu_ms_per_request, cpu_cores_mean, memory_peak_mb, cost_month_usd, cost_per_mreq_usd, "
    "cost_limits_per_mreq_usd, healthy_seconds"
)
METRIC_NAMES = (
    "throughput_rps, error_rate, latency_p50_ms, latency_p95_ms, latency_p99_ms, "
    "cpu_ms_per_request, cpu_cores_mean, memory_peak_mb, cost_month_usd, cost_per_mreq_usd, "
    "cost_limits_per_mreq_usd, healthy_seconds, requests"
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
  command: python app.py
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
  guardrails: {error_rate: 0.05, latency_p99_ms: 0.2, memory_peak_mb: null}
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
    assert config.sandbox.command == "python app.py"
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
        "latency_p50_ms": 0.1,
        "latency_p95_ms": 0.1,
        "latency_p99_ms": 0.2,
        "cpu_ms_per_request": 0.1,
        "cost_per_mreq_usd": 0.1,
    }
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
        20,
        20.0,
        20.0,
        5.0,
        None,
    )
    assert config.objective.primary == "latency_p95_ms"
    assert config.objective.limits() == {
        "error_rate": 0.001,
        "throughput_rps": 0.1,
        "latency_p50_ms": 0.1,
        "latency_p99_ms": 0.1,
        "cpu_ms_per_request": 0.1,
        "memory_peak_mb": 0.1,
        "cost_per_mreq_usd": 0.1,
    }
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
