"""The sandbox a compose file describes (pure): the service mutbot builds (its build, command,
entrypoint, environment, port and health path) and the services it depends on that run from
an image, so that the user's compose file stays the one source of truth.

What a compose file says is taken the way Compose takes it: paths relative to the file's
folder, `${VAR:-default}` by its default (the sandbox has none of the deployment's variables,
and `.env` is not read), string commands split into words without a shell. Environments go
through mutbot.envfilter: secret-looking names and values only the host has stay out, and each
one left out becomes a note. The keys written in .mutbot.yml's sandbox section win
(`merge`). docs/config.md ("Compose") says what is read and what is left out."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mutbot.compose_health import http_probe, service_health
from mutbot.envfilter import filter_env, trust_env
from mutbot.errors import ConfigError
from mutbot.secretnames import looks_secret
from mutbot.units import shown

_INNERMOST = re.compile(r"\$\{(\w+)(?:(:?[-?+])([^${}]*))?\}|\$(\w+)")
_NESTING = 8  # levels of ${A:-${B:-...}} resolved; deeper ones stay as written
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")
_IGNORED = {  # keys of a service left out, and why
    "env_file": "not read: env files hold secrets; give what the service needs in sandbox.env",
    "volumes": "not mounted: the sandbox runs the built image, and services start empty",
    "secrets": "not mounted: secrets never enter a sandbox",
    "configs": "not mounted",
    "extends": "not followed: write the keys out in this service",
    "network_mode": "not used: the sandbox has its own network",
}


@dataclass
class Derived:
    """The sandbox section a compose service describes, as a user would write it in
    .mutbot.yml (`fields`), and what was left out or changed on the way (`notes`)."""

    service: str
    fields: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def choose_service(document: dict[str, Any], name: str | None, where: str) -> str:
    """`name` when the file has it; without a name, the one service with `build:`."""
    services = _services(document)
    if name is not None:
        if name not in services:
            raise ConfigError(
                f"{where}: no service {shown(name)} (sandbox.service); its services: "
                f"{', '.join(services) or 'none'}"
            )
        return name
    built = [n for n, s in services.items() if "build" in s]
    if len(built) == 1:
        return built[0]
    if built:
        raise ConfigError(
            f"{where}: {len(built)} services have build: ({', '.join(built)}); name the one "
            "mutbot measures with sandbox.service"
        )
    raise ConfigError(
        f"{where}: no service has build:; mutbot measures an image it builds from this "
        "repository (add build: to the service, or set sandbox.dockerfile instead of compose)"
    )


def derive(document: dict[str, Any], compose: str, service: str, where: str) -> Derived:
    """The sandbox of `service`; `compose` is the file's path relative to the project, so
    that build paths become relative to the project; `where` names it in messages."""
    services = _services(document)
    spec = services[service]
    key = f"services.{service}"
    out = Derived(service)
    if "build" not in spec:
        raise ConfigError(
            f"{where}: {key}: has no build:; mutbot measures an image it builds from this "
            "repository"
        )
    _build(out, spec["build"], posixpath.dirname(compose), where, f"{key}.build")
    for name in ("command", "entrypoint"):
        if spec.get(name) is not None:
            out.fields[name] = _words(out, spec[name], where, f"{key}.{name}")
    kept = filter_env(_environment(out, spec.get("environment"), f"{key}.environment"))
    out.fields["env"] = kept.env
    out.notes += [f"{key}.environment.{note}" for note in kept.notes]
    throwaway = []
    for dropped in kept.dropped:
        if looks_secret(dropped.name):
            throwaway.append(dropped.name)
            out.notes.append(
                f"{key}.environment.{dropped.name}: left out ({dropped.why}); a random value "
                "is made up for each run instead (throwaway_env)"
            )
        else:
            out.notes.append(f"{key}.environment.{dropped.name}: left out ({dropped.why})")
    if throwaway:
        out.fields["throwaway_env"] = throwaway
    _port_and_health(out, spec, key)
    out.notes += [f"{key}.{name}: {why}" for name, why in _IGNORED.items() if name in spec]
    _dependencies(out, services, service, where)
    return out


def interpolate(value: str, out: Derived, key: str) -> str:
    """`value` as Compose would see it with no variable set: `${VAR:-default}` and
    `${VAR-default}` give their default, `${VAR:+x}` nothing, `$$` a `$`; a variable with no
    default becomes empty, with a note."""
    text = value.replace("$$", "\0")
    missing: list[str] = []

    def resolved(found: re.Match[str]) -> str:
        name, kind, default = found[1] or found[4], found[2], found[3] or ""
        if kind in ("-", ":-"):
            return default
        if kind in ("+", ":+"):
            return ""
        missing.append(name)
        return ""

    for _ in range(_NESTING):  # innermost first: ${A:-${B:-x}}
        text, count = _INNERMOST.subn(resolved, text)
        if not count:
            break
    if missing:
        out.notes.append(
            f"{key}: ${{{missing[0]}}} has no default here (the sandbox has none of the "
            "deployment's variables, and .env is not read): it is empty"
        )
    return text.replace("\0", "$")


def _services(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = document.get("services") or {}
    return {name: spec or {} for name, spec in services.items()}


def _build(out: Derived, build: Any, folder: str, where: str, key: str) -> None:
    spec: dict[str, Any] = {"context": build} if isinstance(build, str) else dict(build)
    if "dockerfile_inline" in spec:
        raise ConfigError(
            f"{where}: {key}.dockerfile_inline: not supported; write the Dockerfile to a file "
            "and name it with dockerfile:"
        )
    context_text = interpolate(str(spec.get("context", ".")), out, f"{key}.context")
    if re.match(r"[a-z][a-z0-9+.-]*://|git@", context_text):
        raise ConfigError(
            f"{where}: {key}.context: a remote context ({shown(context_text)}) is not "
            "supported; mutbot builds from this repository"
        )
    context = _inside(posixpath.join(folder, context_text), where, f"{key}.context")
    dockerfile = interpolate(str(spec.get("dockerfile", "Dockerfile")), out, f"{key}.dockerfile")
    out.fields["context"] = context
    out.fields["dockerfile"] = _inside(
        posixpath.join(context, dockerfile), where, f"{key}.dockerfile"
    )
    build_fields: dict[str, Any] = {}
    if spec.get("target") is not None:
        build_fields["target"] = interpolate(str(spec["target"]), out, f"{key}.target")
    if spec.get("args") is not None:
        args = filter_env(_environment(out, spec["args"], f"{key}.args"))
        build_fields["args"] = args.env
        out.notes += [f"{key}.args.{note}" for note in args.notes]
        out.notes += [f"{key}.args.{d.name}: left out ({d.why})" for d in args.dropped]
    out.fields["build"] = build_fields
    for name, why in (
        ("additional_contexts", "not used"),
        ("secrets", "not used: secrets never enter a sandbox"),
        ("ssh", "not used: no agent or key reaches a build"),
    ):
        if name in spec:
            out.notes.append(f"{key}.{name}: {why}")


def _inside(path: str, where: str, key: str) -> str:
    """`path` relative to the project, refused when it leaves it (symlinks are followed
    later, where files are read)."""
    normal = posixpath.normpath(path)
    if posixpath.isabs(normal) or normal == ".." or normal.startswith("../"):
        raise ConfigError(
            f"{where}: {key}: must stay inside the project folder, got {shown(path)}"
            if not posixpath.isabs(normal)
            else f"{where}: {key}: must be a path relative to the compose file, got {shown(path)}"
        )
    return normal


def _words(out: Derived, value: Any, where: str, key: str) -> list[str]:
    """A command as Compose runs it: a list as it is, a string split into words (no shell)."""
    if isinstance(value, list):
        return [interpolate(str(word), out, key) for word in value]
    text = interpolate(str(value), out, key)
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: {key}: cannot split into words: {exc}") from None


def _pairs(value: Any) -> Iterator[tuple[str, str | None]]:
    """A compose `list_or_dict` (environment, build args): `KEY=VALUE` lines or a mapping;
    None is a variable that takes the host's value."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield name, _text(item)
        return
    for line in value:
        name, equals, item = str(line).partition("=")
        yield name, item if equals else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _environment(out: Derived, value: Any, key: str) -> dict[str, str | None]:
    """An environment (or build args) by name; names no shell could set are noted."""
    env: dict[str, str | None] = {}
    for name, item in _pairs(value or {}):
        if _VARIABLE.fullmatch(name):
            env[name] = item
        else:
            out.notes.append(f"{key}: {shown(name)} left out (not a variable name)")
    return env


def _port_and_health(out: Derived, spec: dict[str, Any], key: str) -> None:
    ports = [p for p in (_port(out, p, f"{key}.ports") for p in spec.get("ports") or []) if p]
    ports += [p for p in (_port(out, p, f"{key}.expose") for p in spec.get("expose") or []) if p]
    ports = list(dict.fromkeys(ports))
    probe = http_probe(spec.get("healthcheck"), lambda text: interpolate(text, out, key))
    if ports:
        out.fields["port"] = ports[0]
        if len(ports) > 1:
            out.notes.append(
                f"{key}.ports: several container ports ({', '.join(map(str, ports))}); "
                f"measuring {ports[0]} (set sandbox.port to choose)"
            )
    elif probe is not None:
        out.fields["port"] = probe.port
    if probe is None:
        out.notes.append(f"{key}: no healthcheck asks HTTP; the health path is sandbox.health's")
    elif probe.port != out.fields.get("port", probe.port):
        out.notes.append(
            f"{key}.healthcheck: probes port {probe.port}, not the service's port "
            f"{out.fields['port']}: its path {probe.path} is not used"
        )
    else:
        out.fields["health"] = probe.path


def _port(out: Derived, entry: Any, key: str) -> int | None:
    """The container side of a ports or expose entry: 8000, "8080:8000", "127.0.0.1:80:8000/tcp",
    {target: 8000}."""
    if isinstance(entry, dict):
        if str(entry.get("protocol", "tcp")) != "tcp":
            return None
        text = interpolate(str(entry.get("target", "")), out, key)
    else:
        text = interpolate(str(entry), out, key)
        text, _, protocol = text.partition("/")
        if protocol not in ("", "tcp"):
            return None
        text = text.rsplit(":", 1)[-1]
    first = text.split("-", 1)[0].strip()
    if first.isdigit() and 1 <= int(first) <= 65535:
        return int(first)
    out.notes.append(f"{key}: {shown(entry)} is not a container port")
    return None


def _dependencies(out: Derived, services: dict[str, dict[str, Any]], main: str, where: str) -> None:
    """The services `main` depends on (and theirs), dependencies first, as sandbox services."""
    order: list[str] = []
    seen = {main}
    stack = [(main, iter(_needs(services[main])))]  # depth first, without recursion
    while stack:
        name, needs = stack[-1]
        dep = next(needs, None)
        if dep is None:
            stack.pop()
            order += [name] if name != main else []
        elif dep not in services:
            raise ConfigError(
                f"{where}: services.{name}.depends_on: no service {shown(dep)} in this file"
            )
        elif dep not in seen:
            seen.add(dep)
            stack.append((dep, iter(_needs(services[dep]))))
    derived: dict[str, dict[str, Any]] = {}
    for name in order:
        spec, key = services[name], f"services.{name}"
        if "build" in spec:
            out.notes.append(
                f"{key}: built from this repository too; not started (only services that run "
                "from an image are)"
            )
        elif "image" not in spec:
            out.notes.append(f"{key}: has no image; not started")
        else:
            derived[name] = _dependency(out, spec, key, where)
    if derived:
        out.fields["services"] = derived


def _needs(spec: dict[str, Any]) -> list[str]:
    needs = spec.get("depends_on") or []
    return [str(n) for n in (needs if isinstance(needs, list) else list(needs))]


def _dependency(out: Derived, spec: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    image = interpolate(str(spec["image"]), out, f"{key}.image")
    service: dict[str, Any] = {"image": image}
    if spec.get("command") is not None:
        service["command"] = _words(out, spec["command"], where, f"{key}.command")
    kept = filter_env(_environment(out, spec.get("environment"), f"{key}.environment"))
    out.notes += [f"{key}.environment.{note}" for note in kept.notes]
    out.notes += [f"{key}.environment.{d.name}: left out ({d.why})" for d in kept.dropped]
    trust = trust_env(image, kept.dropped)
    if trust:
        out.notes.append(
            f"{key}: its password is left out, so it runs without one "
            f"({', '.join(f'{k}={v}' for k, v in trust.items())})"
        )
    service["env"] = {**kept.env, **trust}
    health = service_health(spec.get("healthcheck"), lambda text: interpolate(text, out, key))
    if health is not None:
        service["health"] = health
    ignored = {**_IGNORED, "entrypoint": "not used (services take a command)"}
    out.notes += [f"{key}.{name}: {why}" for name, why in ignored.items() if name in spec]
    return service


def merge(explicit: dict[str, Any], derived: Derived) -> dict[str, Any]:
    """The sandbox section to validate: what the compose file says and, over it, what
    .mutbot.yml's sandbox section writes (`explicit`, its keys as set there). Mappings (env,
    build, build.args, services) are merged entry by entry, the lists of names joined."""
    merged = {**derived.fields, **explicit}
    for name in ("env", "services"):
        if name in derived.fields and name in explicit:
            merged[name] = {**derived.fields[name], **explicit[name]}
    if "build" in derived.fields and "build" in explicit:
        mine, theirs = explicit["build"], derived.fields["build"]
        merged["build"] = {
            **theirs,
            **mine,
            "args": {**theirs.get("args", {}), **mine.get("args", {})},
        }
    names = [*derived.fields.get("throwaway_env", []), *explicit.get("throwaway_env", [])]
    if names:
        merged["throwaway_env"] = list(dict.fromkeys(names))
    return merged
