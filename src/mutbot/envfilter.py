"""Which environment a repository's deployment files give a service may enter the sandbox (pure).

`mutbot init` writes what this keeps into `sandbox.env`, and `sandbox.compose` reads a compose
file through it, so both leave out the same things and say why: a variable whose name looks
like a secret (mutbot.secretnames), a value interpolated from the deployment's own environment
(`${VAR}`, which the sandbox does not have; `${VAR:-default}` keeps its default), and the
password inside a URL (`postgresql://app:pw@db/app` keeps `postgresql://app@db/app`). A database
whose password was left out runs in its no-password mode instead (`trust_env`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mutbot.secretnames import looks_secret

_INTERPOLATED = re.compile(r"\$\{(\w+)(?:(:?[-?+])([^}]*))?\}|\$(\w+)")
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/:@\s]*):[^@/\s]*@", re.IGNORECASE)
# Official database images and the variables that let them start without a password.
_NO_PASSWORD = {
    "postgres": {"POSTGRES_HOST_AUTH_METHOD": "trust"},
    "postgis/postgis": {"POSTGRES_HOST_AUTH_METHOD": "trust"},
    "mysql": {"MYSQL_ALLOW_EMPTY_PASSWORD": "yes"},
    "mariadb": {"MARIADB_ALLOW_EMPTY_ROOT_PASSWORD": "yes"},
}
# Their names look like secrets but are switches, which the config lets through.
NO_PASSWORD_SWITCHES = frozenset(name for env in _NO_PASSWORD.values() for name in env)


@dataclass(frozen=True)
class Dropped:
    name: str
    why: str


@dataclass(frozen=True)
class Filtered:
    env: dict[str, str]  # what may enter the sandbox
    dropped: tuple[Dropped, ...]  # what was left out, and why
    notes: tuple[str, ...]  # what was changed on the way (a password cut from a URL)


def filter_env(env: Mapping[str, str | None]) -> Filtered:
    """The variables a sandbox may get of `env` (a compose `environment:` as a mapping; None is
    a variable passed through from the host, which the sandbox does not have)."""
    kept: dict[str, str] = {}
    dropped: list[Dropped] = []
    notes: list[str] = []
    for name, value in env.items():
        if looks_secret(name):
            dropped.append(Dropped(name, "its name looks like a secret"))
            continue
        if value is None:
            dropped.append(Dropped(name, "its value comes from the host's environment"))
            continue
        resolved = _resolve(value)
        if resolved is None:
            dropped.append(Dropped(name, f"its value is interpolated ({value.strip()[:60]})"))
            continue
        cut = _URL_PASSWORD.sub(r"\g<head>@", resolved)
        if cut != resolved:
            notes.append(f"{name}: the password in its URL is left out")
        kept[name] = cut
    return Filtered(kept, tuple(dropped), tuple(notes))


def trust_env(image: str, dropped: tuple[Dropped, ...]) -> dict[str, str]:
    """For an official database image whose password was left out: how it starts without."""
    if not any("PASS" in d.name.upper() for d in dropped):
        return {}
    repository = image.split("@")[0].rsplit(":", 1)[0] if ":" in image.split("/")[-1] else image
    repository = repository.removeprefix("docker.io/").removeprefix("library/")
    return dict(_NO_PASSWORD.get(repository, {}))


def _resolve(value: str) -> str | None:
    """`value` with `${VAR:-default}` and `${VAR-default}` replaced by their defaults and
    `${VAR:+other}` by nothing (no variable is set); None when it interpolates a variable with
    no default (`${VAR}`, `$VAR`, `${VAR:?message}`). `$$` is a literal `$`."""
    missing = False

    def default(found: re.Match[str]) -> str:
        nonlocal missing
        if found[2] in ("-", ":-"):
            return found[3]
        if found[2] not in ("+", ":+"):
            missing = True
        return ""

    text = _INTERPOLATED.sub(default, value.replace("$$", "\0"))
    return None if missing else text.replace("\0", "$")
