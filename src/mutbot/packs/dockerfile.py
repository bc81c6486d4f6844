"""The Dockerfile pack: every instruction of the measured Dockerfile's built stages as a setting
with its safety class. Build inputs (FROM, RUN, COPY, ADD, WORKDIR, ARG, SHELL) are tuning
settings; ENV too, except the variables other packs own (theirs to change) and ports, hosts and
secrets (never); USER may move to non-root only when the build and start prove it, and only for
a service on a port of 1024 or more; EXPOSE, HEALTHCHECK, LABEL, VOLUME, STOPSIGNAL never.
CMD and ENTRYPOINT are the server packs' (their flags are the server's settings).

Detectors live in `dockerfile_checks`; every fix is an edit of the Dockerfile's text."""

from __future__ import annotations

from collections.abc import Mapping

from mutbot.packs.dockerfile_checks import findings
from mutbot.packs.dockerfile_layers import rewrite
from mutbot.packs.dockerfile_read import Built, Entry, built_of, entries
from mutbot.packs.dockerfile_settings import SETTINGS
from mutbot.packs.dockerfile_user import default_user, insert_at, is_root, lines, plan, port_allows
from mutbot.packs.model import Edit, Finding, Move, Seen, Setter, Setting, Site, Value
from mutbot.packs.view import View


class DockerfilePack:
    name = "dockerfile"
    settings: Mapping[str, Setting] = SETTINGS

    def scan(self, view: View) -> list[Seen]:
        built = built_of(view)
        if built is None:
            return []
        editable = view.editable(built.path)
        allowed, _ = port_allows(view)
        found = entries(built)
        out = [self._seen(built, e, editable and _changeable(e, allowed)) for e in found]
        if not any(e.name == "USER" for e in found) and default_user(built) == "root":
            out.append(self._no_user(view, built, editable))
        return out

    def detect(self, view: View, seen: list[Seen]) -> list[Finding]:
        built = built_of(view)
        return findings(view, built, seen) if built is not None else []

    def explore(self, view: View, seen: list[Seen]) -> list[Move]:
        """None: a Dockerfile has no numbers to step through. Its changes are the detectors'
        fixes, each proved by a build."""
        return []

    def rewrite(self, view: View, finding: Finding) -> tuple[Edit, ...]:
        """The edit that fixes a cache-busting-copy or single-stage-build finding: it moves and
        adds instructions, so it is no single-setting move (those findings carry no fix); a
        proposer that makes whole-file candidates uses it. () when none is safe."""
        built = built_of(view)
        return rewrite(built, finding) if built is not None else ()

    def _seen(self, built: Built, entry: Entry, editable: bool) -> Seen:
        return Seen(
            pack=self.name,
            setting=SETTINGS[entry.name],
            value=entry.value,
            written=True,
            site=Site(built.path, entry.line, "instruction"),
            # a variable is its own value, not the whole ENV line it shares with others
            raw=built.text[entry.start : entry.end] if entry.kind in ("ENV", "ARG") else entry.raw,
            reaches=entry.reaches,
            setter=_setter(built, entry) if editable else None,
        )

    def _no_user(self, view: View, built: Built, editable: bool) -> Seen:
        offset, line = insert_at(built)
        allowed, _ = port_allows(view)
        setter = _add_user(built, offset) if editable and allowed else None
        return Seen(
            pack=self.name,
            setting=SETTINGS["USER"],
            value="root",
            written=False,
            site=Site(built.path, line, "instruction"),
            reaches="build",
            setter=setter,
        )


def _changeable(entry: Entry, allowed: bool) -> bool:
    """Not a `never` setting; and root moves to a user only for a port of 1024 or more."""
    if SETTINGS[entry.name].safety == "never":
        return False
    return allowed or entry.kind != "USER" or not is_root(str(entry.value))


def _setter(built: Built, entry: Entry) -> Setter:
    def put(value: Value) -> tuple[Edit, ...]:
        if value is None:
            return ()
        text = str(value)
        if entry.kind in ("ENV", "ARG"):
            return (_variable(built, entry, text),)
        if entry.kind == "USER":
            return _user(built, entry, text)
        return (Edit(built.path, entry.start, entry.end, text),)

    return put


def _variable(built: Built, entry: Entry, text: str) -> Edit:
    if entry.value is None and entry.start == entry.end:  # `ARG NAME` without a default
        return Edit(built.path, entry.start, entry.end, "=" + _quoted(text))
    if entry.quote:
        return Edit(
            built.path, entry.start, entry.end, text.replace(entry.quote, "\\" + entry.quote)
        )
    return Edit(built.path, entry.start, entry.end, _quoted(text))


def _quoted(text: str) -> str:
    plain = text and not any(c.isspace() or c in "\"'\\" for c in text)
    return text if plain else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _user(built: Built, entry: Entry, text: str) -> tuple[Edit, ...]:
    """The user's name changed; a non-root user the image lacks is created right above. Never
    back to root."""
    if is_root(text):
        return ()
    edits = [Edit(built.path, entry.start, entry.end, text)]
    planned = plan(built)
    if not is_root(text) and planned and planned[0] == text and planned[1]:
        at = built.starts[entry.line - 1]
        eol = "\r\n" if "\r\n" in built.text else "\n"
        edits.insert(0, Edit(built.path, at, at, f"RUN {planned[1]}{eol}"))
    return tuple(edits)


def _add_user(built: Built, offset: int) -> Setter:
    def put(value: Value) -> tuple[Edit, ...]:
        if value is None or is_root(str(value)):
            return ()
        planned = plan(built)
        create = planned[1] if planned and planned[0] == value else None
        text = lines(built, str(value), create)
        at = min(offset, len(built.text))
        if at == len(built.text) and built.text and not built.text.endswith("\n"):
            text = ("\r\n" if "\r\n" in built.text else "\n") + text.rstrip("\r\n")
        return (Edit(built.path, at, at, text),)

    return put


PACK = DockerfilePack()
