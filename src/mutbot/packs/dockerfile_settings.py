"""The Dockerfile pack's settings (pure). A Dockerfile's settings are its instructions, so each
one is named after its place ("RUN 2", "build/FROM", "ENV PYTHONUNBUFFERED", "global/ARG PY")
and its Setting follows from that name alone: the instruction's own, with `never` for a
variable that names a port, a host or a secret and for a FROM that names an earlier stage."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace

from mutbot.packs.model import Setting
from mutbot.secretnames import looks_secret

STAGE = "FROM (stage)"  # a FROM naming an earlier stage, not an image
_NEVER_WORDS = frozenset(
    {"PORT", "HOST", "BIND", "ADDR", "LISTEN", "URL", "URI", "DSN", "TLS", "SSL", "CERT", "USER",
     "UID", "GID", "DOMAIN", "ORIGIN", "SOCKET", "HOSTNAME", "ADDRESS"}
)  # fmt: skip
TEMPLATES: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("FROM", "str", None, "the image a stage starts from (a build input)"),
        Setting(STAGE, "str", None, "the earlier stage a stage builds on", "never"),
        Setting("RUN", "str", None, "a command the build runs"),
        Setting("COPY", "str", None, "files the build copies into the image"),
        Setting("ADD", "str", None, "files (or archives, URLs) the build adds to the image"),
        Setting("WORKDIR", "str", None, "the working directory of the instructions after it"),
        Setting("ARG", "str", None, "a build argument and its default"),
        Setting("SHELL", "str", None, "the shell RUN commands run in"),
        Setting("ENV", "str", None, "a variable the build and the container see"),
        Setting(
            "USER", "str", "root", "the user the container runs as", safety="prove",
            default_note="Docker runs the container as root unless the image sets a user",
        ),
        Setting("EXPOSE", "str", None, "the ports the image says it listens on", "never"),
        Setting("HEALTHCHECK", "str", None, "how Docker checks the container's health", "never"),
        Setting("LABEL", "str", None, "metadata", "never"),
        Setting("STOPSIGNAL", "str", None, "the signal that stops the container", "never"),
        Setting("VOLUME", "str", None, "paths kept outside the container's layer", "never"),
        Setting("ONBUILD", "str", None, "instructions for images built on this one", "never"),
        Setting("MAINTAINER", "str", None, "metadata", "never"),
    )
}  # fmt: skip


def never_name(name: str) -> bool:
    """A variable naming where the service listens, who it is, or a secret."""
    return looks_secret(name) or bool(_NEVER_WORDS & set(name.upper().split("_")))


def setting_for(name: str) -> Setting:
    """The Setting of an instruction's name; KeyError for a name no instruction has."""
    base = re.sub(r" \(\d+\)$", "", name.rsplit("/", 1)[-1])  # no stage, no "(2)"
    if base in TEMPLATES:
        return replace(TEMPLATES[base], name=name) if base != name else TEMPLATES[base]
    kind, _, rest = base.partition(" ")
    template = TEMPLATES.get(kind)
    if template is None or not rest or kind in ("USER", "FROM"):
        raise KeyError(name)
    if kind in ("ENV", "ARG") and never_name(rest):
        return replace(template, name=name, safety="never")
    if kind not in ("ENV", "ARG") and not rest.isdigit():
        raise KeyError(name)
    return replace(template, name=name)


class Instances(Mapping[str, Setting]):
    """The settings of a pack whose settings are instances (an instruction, a container's
    limit): iterating gives the templates; any instance's name looks up its Setting."""

    def __init__(self, templates: Mapping[str, Setting], of: Callable[[str], Setting]) -> None:
        self._templates, self._of = templates, of

    def __getitem__(self, name: str) -> Setting:
        return self._of(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._templates)

    def __len__(self) -> int:
        return len(self._templates)


SETTINGS = Instances(TEMPLATES, setting_for)
