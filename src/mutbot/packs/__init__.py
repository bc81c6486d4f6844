"""Technology packs: one package per technology (Renovate's managers and Akamas's optimisation
packs are the models). A pack knows where its settings live, each setting's type, domain,
default and safety class, what it detects and how it changes a setting, including adding a
missing one in the file's own style. Adding a pack is one module and one line in `PACKS`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from mutbot.packs.model import Finding, Move, Seen, Setting
from mutbot.packs.view import View


class Pack(Protocol):
    name: str

    @property
    def settings(self) -> Mapping[str, Setting]:
        """Every setting it knows, by its name."""
        ...

    def scan(self, view: View) -> list[Seen]:
        """The settings in effect for the sandbox's service: those written (any safety class),
        and the tuning settings not written, at their defaults, with where they would be added.
        Empty when the technology is not in use."""
        ...

    def detect(self, view: View, seen: list[Seen]) -> list[Finding]:
        """Known problems, each with its fix (one finding per fix)."""
        ...

    def explore(self, view: View, seen: list[Seen]) -> list[Move]:
        """Exploratory single-setting moves over the tuning settings, best first."""
        ...


# The registry: one line per pack, in the order their findings are listed.
from mutbot.packs import (  # noqa: E402 - the packs use the Protocol above
    appsettings,
    dockerfile,
    golang,
    gunicorn,
    hypercorn,
    jvm,
    nginx,
    node,
    orchestration,
    uvicorn,
    uwsgi,
    webapps,
)

PACKS: dict[str, Pack] = {
    "gunicorn": gunicorn.PACK,
    "uvicorn": uvicorn.PACK,
    "hypercorn": hypercorn.PACK,
    "uwsgi": uwsgi.PACK,
    "webapps": webapps.PACK,
    "appsettings": appsettings.PACK,
    "node": node.PACK,
    "go": golang.PACK,
    "nginx": nginx.PACK,
    "jvm": jvm.PACK,
    "dockerfile": dockerfile.PACK,
    "orchestration": orchestration.PACK,
}
