"""Proposers: where candidates come from. A Protocol (`base.Proposer`) and a registry, like
pre-commit's languages: `--proposer anthropic|search|tune|file:PATH`. Each entry imports its module
when called, so reading results never loads the LLM SDK."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from mutbot.config import Config
from mutbot.errors import ConfigError, ProposerError
from mutbot.hardening import environment
from mutbot.proposers.base import Proposer

Log = Callable[[str], None]
KEY_VARIABLE = "ANTHROPIC_API_KEY"


def _anthropic(config: Config, project: Path, log: Log, env: Mapping[str, str]) -> Proposer:
    key = env.get(KEY_VARIABLE, "")
    if not key:
        raise ProposerError(f"--proposer anthropic needs an API key in {KEY_VARIABLE}")
    from mutbot.proposers import anthropic_proposer

    return anthropic_proposer.create(key, config.llm, prompt_folder(config, project), log)


def _search(config: Config, project: Path, log: Log, env: Mapping[str, str]) -> Proposer:
    from mutbot.proposers import search

    return search.create()


def _tune(config: Config, project: Path, log: Log, env: Mapping[str, str]) -> Proposer:
    """The closed-loop search: the packs' fixes (and the LLM's candidates, with a key) seed it,
    then the run's loop asks the model for the rest (mutbot.tune)."""
    from mutbot.proposers.seeds import Seeds

    llm = _anthropic(config, project, log, env) if env.get(KEY_VARIABLE) else None
    return Seeds(_search(config, project, log, env), llm)


PROPOSERS: dict[str, Callable[[Config, Path, Log, Mapping[str, str]], Proposer]] = {
    "anthropic": _anthropic,
    "search": _search,
    "tune": _tune,
}


def choose(spec: str | None, env: Mapping[str, str] | None = None) -> str:
    """The user's choice, else `anthropic` when a key is set, else the offline `search`.
    `env`: default, the environment with the secrets mutbot took out of it (hardening)."""
    env = environment() if env is None else env
    if spec:
        if spec not in PROPOSERS and not spec.startswith("file:"):
            names = ", ".join([*PROPOSERS, "file:PATH"])
            raise ConfigError(f"unknown proposer {spec!r}; expected one of {names}")
        return spec
    return "anthropic" if env.get(KEY_VARIABLE) else "search"


def create(
    spec: str, config: Config, project: Path, log: Log, env: Mapping[str, str] | None = None
) -> Proposer:
    env = environment() if env is None else env
    if spec.startswith("file:"):
        from mutbot.proposers.file import FileProposer

        return FileProposer(Path(spec.removeprefix("file:")))
    return PROPOSERS[spec](config, project, log, env)


def prompt_folder(config: Config, project: Path) -> Path | None:
    return project / config.propose.prompts if config.propose.prompts else None
