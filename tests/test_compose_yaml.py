"""Compose files are read as Compose reads them (YAML 1.2, anchors and `<<` merges) with bounded
work, and no compose file, however hostile, gets past `with_compose` as anything but a
sandbox or one ConfigError."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutbot.compose_file import with_compose
from mutbot.config_sandbox import Sandbox
from mutbot.errors import ConfigError
from mutbot.untrusted import YamlRefused, load_compose_yaml, load_yaml
from testing.hostile_inputs import YAML_RAW, mutate_tree, splice
from testing.repos import ROOT

FIXTURES = ROOT / "testing" / "fixtures" / "compose"
LIMIT = 2.0  # seconds for one input: anything slower is a hang


def test_scalars_read_as_yaml_1_2() -> None:
    text = (
        "a: [no, on, yes, off, y, 8080:80, 1:30, 0755, 0o17, 0x1F, 1_000, 2024-01-02, 1e3, .5]\n"
        "b: [true, False, ~, null, '', .inf]\n"
    )
    assert load_compose_yaml(text) == {
        "a": ["no", "on", "yes", "off", "y", "8080:80", "1:30", 755, 15, 31, "1_000",
              "2024-01-02", 1000.0, 0.5],
        "b": [True, False, None, None, "", float("inf")],
    }  # fmt: skip
    assert load_yaml("a: [no, 1:30]\n") == {"a": [False, 90]}  # .mutbot.yml: unchanged


def test_anchors_and_merge_keys_as_compose_files_use_them() -> None:
    text = (
        "x-env: &env {A: '1', B: '2'}\n"
        "x-log: &log {logging: {driver: json-file}}\n"
        "services:\n"
        "  web:\n"
        "    <<: [*log, {restart: always}]\n"
        "    environment:\n"
        "      <<: *env\n"
        "      B: own\n"
    )
    assert load_compose_yaml(text)["services"] == {
        "web": {
            "logging": {"driver": "json-file"},
            "restart": "always",
            "environment": {"A": "1", "B": "own"},  # its own key wins over the merged one
        }
    }
    with pytest.raises(YamlRefused, match="anchors and aliases"):
        load_yaml(text)  # .mutbot.yml still has none


def test_alias_bombs_self_references_and_duplicates_are_refused_fast() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
    )  # 10^9 values once expanded, 800 bytes
    chain = "a0: &a0 {x: 1}\n" + "".join(
        f"a{i}: &a{i} {{<<: *a{i - 1}, y{i}: 1}}\n" for i in range(1, 2000)
    )  # merges 2,000 deep: PyYAML's flattening recurses
    cases = {
        laughs: "more than 50,000 values once its aliases are expanded",
        chain: "nested deeper than 32 levels (aliases expanded)",
        "a: &a [*a]\n": "an alias refers to itself",
        "a: &a {<<: *a}\n": "an alias refers to itself",
        "a: 1\nb: 2\na: 3\n": "the key 'a' appears twice in this mapping",
    }
    for text, problem in cases.items():
        started = time.monotonic()
        with pytest.raises(YamlRefused) as info:
            load_compose_yaml(text)
        assert info.value.problem == problem
        assert time.monotonic() - started < LIMIT


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compose-project")


def sandbox_or_error(project: Path, data: bytes, seed: int | None = None) -> str:
    name, service = SEEDS[seed][1:] if seed is not None else ("docker-compose.yml", None)
    (project / name).parent.mkdir(exist_ok=True)
    (project / name).write_bytes(data)
    started = time.monotonic()
    try:
        sandbox, derived = with_compose(Sandbox(compose=name, service=service), project)
        outcome = f"sandbox with {len(derived.notes)} notes, {len(sandbox.services)} services"
    except ConfigError as exc:
        assert str(exc).startswith(f"{project / name}")
        assert len(str(exc)) < 12 * 1400  # bounded lines, each bounded
        outcome = "refused"
    assert time.monotonic() - started < LIMIT, data[:200]
    return outcome


# each fixture, where it lives in a project and the service it names
SEEDS: list[tuple[Any, str, str | None]] = [
    (load_compose_yaml((FIXTURES / fixture).read_text()), at, service)
    for fixture, at, service in (
        ("django-prod.yml", "deploy/docker-compose.prod.yml", "web"),
        ("express.yml", "docker-compose.yml", None),
        ("fastapi.yml", "compose.yaml", "app"),
        ("rails.yml", "docker-compose.yml", None),
    )
]
FEW = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@FEW
@given(st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.decode("latin-1")))
def test_any_text_is_a_sandbox_or_one_config_error(project: Path, text: str) -> None:
    sandbox_or_error(project, text.encode("utf-8", "surrogatepass"))


@FEW
@given(st.randoms(use_true_random=False), st.integers(0, len(SEEDS) - 1))
def test_real_compose_files_damaged_are_a_sandbox_or_one_config_error(
    project: Path, rng: random.Random, seed: int
) -> None:
    """A real compose file with one to three values replaced by a wrong type, a huge number,
    a long or odd string, deep nesting or an alias, or its text cut short."""
    tree: Any = mutate_tree(rng, SEEDS[seed][0], YAML_RAW)
    text = splice(yaml.safe_dump(tree, sort_keys=False, allow_unicode=True), YAML_RAW)
    if rng.random() < 0.2:
        text = text[: rng.randrange(len(text) + 1)]
    sandbox_or_error(project, text.encode("utf-8", "surrogatepass"), seed)


def test_the_damaged_files_reach_the_sandbox_too(project: Path) -> None:
    """The property above is not only about refusals: many damaged files still give a
    sandbox, so the code that reads a service meets odd values."""
    rng = random.Random(7)
    outcomes = []
    for index in range(60):
        seed = index % len(SEEDS)
        tree = mutate_tree(rng, SEEDS[seed][0], YAML_RAW, rounds=1)
        text = splice(yaml.safe_dump(tree, sort_keys=False), YAML_RAW)
        outcomes.append(sandbox_or_error(project, text.encode("utf-8", "surrogatepass"), seed))
    assert sum(o.startswith("sandbox") for o in outcomes) >= 20
    assert "refused" in outcomes
