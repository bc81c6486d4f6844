"""Reading the compose file `sandbox.compose` names (edge): bounded YAML as Compose reads it,
checked against the compose specification's JSON schema (the copy check-jsonschema ships),
then turned into the sandbox (mutbot.compose). Every problem is a line `FILE: key.path: what
is wrong`."""

from __future__ import annotations

import difflib
import functools
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema.exceptions import ValidationError as SchemaError
from pydantic import ValidationError

from mutbot import untrusted
from mutbot.compose import Derived, choose_service, derive, merge
from mutbot.config_errors import format_errors
from mutbot.config_sandbox import Sandbox
from mutbot.errors import ConfigError
from mutbot.units import shown

MAX_COMPOSE = 128 * 1024  # bytes; a large real compose file has 20 KB; this reads in < 2 s
MAX_PROBLEMS = 10  # schema errors shown
_MAX_MESSAGE = 300


def with_compose(sandbox: Sandbox, project: Path) -> tuple[Sandbox, Derived]:
    """`sandbox` with what its compose file says filled in (keys set in .mutbot.yml win), and
    what was read, left out or changed on the way (`Derived.notes`)."""
    assert sandbox.compose is not None
    path = project / sandbox.compose
    where = str(path)
    document = read_compose(path)
    service = choose_service(document, sandbox.service, where)
    derived = derive(document, Path(sandbox.compose).as_posix(), service, where)
    explicit = sandbox.model_dump(exclude_unset=True)
    try:
        return Sandbox.model_validate(merge(explicit, derived)), derived
    except ValidationError as exc:
        lines = format_errors(path, exc, Sandbox).splitlines()
        raise ConfigError(
            "\n".join(f"{line} (in the sandbox read from services.{service})" for line in lines)
        ) from None


def read_compose(path: Path) -> dict[str, Any]:
    """The compose file as a mapping that satisfies the compose specification."""
    try:
        text = untrusted.read(path, MAX_COMPOSE).decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start + 1})") from None
    except ValueError as exc:  # too large
        raise ConfigError(f"{path}: {exc}; is this a compose file?") from None
    try:
        document = _text_keys(untrusted.load_compose_yaml(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = (getattr(exc, "problem", None) or str(exc).split("\n")[0])[:200]
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        head = "" if isinstance(exc, untrusted.YamlRefused) else " not valid YAML"
        raise ConfigError(f"{path}:{head}{where}: {problem}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a compose file (a mapping with services:)")
    problems = schema_problems(document)
    if problems:
        shown = [f"{path}: {line}" for line in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"{path}: … and {len(problems) - MAX_PROBLEMS} more problems")
        raise ConfigError("\n".join(shown))
    return document


def schema_problems(document: dict[str, Any]) -> list[str]:
    """`key.path: message` for each way `document` breaks the compose specification."""
    validator = _validator()
    schema = dict(validator.schema) if isinstance(validator.schema, dict) else {}
    errors = [leaf for e in validator.iter_errors(document) for leaf in _leaves(e)]
    wrong = {tuple(e.absolute_path) for e in errors}
    problems = []
    for error in errors:
        message: str | None = error.message
        if error.validator in ("additionalProperties", "unevaluatedProperties"):
            message = _unknown(error, schema, wrong)
        elif error.validator in ("oneOf", "anyOf"):
            message = _none_fits(error)
        if message is None:
            continue
        key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
        key = key if len(key) <= 100 else key[:99] + "…"
        message = message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"
        problems.append(f"{key}: {message}")
    return sorted(set(problems))


def _leaves(error: SchemaError) -> list[SchemaError]:
    """The errors inside a oneOf/anyOf: all of those of the one branch whose type fits (a
    mapping where a string or a mapping may be), else the error itself."""
    if not error.context:
        return [error]
    branches: dict[Any, list[SchemaError]] = {}
    for inner in error.context:
        branches.setdefault(inner.relative_schema_path[0], []).append(inner)
    fitting = [
        errors
        for errors in branches.values()
        if not any(e.validator == "type" and not e.relative_path for e in errors)
    ]
    if len(fitting) != 1:
        return [error]
    return [leaf for inner in fitting[0] for leaf in _leaves(inner)]


def _none_fits(error: SchemaError) -> str:
    types = [
        str(e.validator_value)
        for e in error.context or []
        if e.validator == "type" and not e.relative_path
    ]
    expected = " or ".join(dict.fromkeys(types)) or "one of the forms the specification allows"
    return f"expected {expected}, got {shown(error.instance)}"


def _unknown(error: SchemaError, root: dict[str, Any], wrong: set[tuple[Any, ...]]) -> str | None:
    """The keys no schema knows, with a guess at the one meant. jsonschema reports every key of
    a mapping with an error inside as "unevaluated" too: those keys are left to their own error."""
    known, patterns = _properties(error.schema, root)
    here = tuple(error.absolute_path)
    extra = [
        str(k)
        for k in (error.instance if isinstance(error.instance, dict) else {})
        if k not in known
        and not any(re.search(p, str(k)) for p in patterns)
        and not any(w[: len(here) + 1] == (*here, k) for w in wrong)
    ]
    if not extra:
        return None
    close = difflib.get_close_matches(extra[0], sorted(known), n=1) if len(extra[0]) < 64 else []
    hint = f"; did you mean {close[0]!r}?" if close else ""
    names = ", ".join(repr(k[:64]) for k in extra[:5])
    return f"unknown key{'s' if len(extra) > 1 else ''} {names}{hint}"


def _properties(schema: Any, root: dict[str, Any], depth: int = 0) -> tuple[set[str], list[str]]:
    """The property names and patterns a schema allows, through allOf/anyOf/oneOf and
    local $refs."""
    if not isinstance(schema, dict) or depth > 8:
        return set(), []
    if isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        target: Any = root
        for part in schema["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    known = set(schema.get("properties", {}))
    patterns = list(schema.get("patternProperties", {}))
    for group in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(group, []):
            more, more_patterns = _properties(part, root, depth + 1)
            known |= more
            patterns += more_patterns
    return known, patterns


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    from check_jsonschema.builtin_schemas import get_builtin_schema  # 0.1 s: only when used

    schema = get_builtin_schema("vendor.compose-spec")
    cls = jsonschema.validators.validator_for(schema)
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


def _text_keys(value: Any) -> Any:
    """Every mapping key as text, as Compose reads them (`80:` and `true:` are keys too). The
    result is a tree: an alias becomes a copy, bounded by the reader's count of them."""
    if isinstance(value, dict):
        return {_key(k): _text_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text_keys(item) for item in value]
    return value


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)
