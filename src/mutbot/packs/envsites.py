"""Environment variables where they are set (pure): a Dockerfile `ENV K=V` or `ENV K V`, a
compose `environment:` map or list, a Kubernetes `env:` list, a shell script's `export K=V`, a
`.env` file. Reads where the variable the server sees is written, changes it there, or adds an
`ENV` line to the measured Dockerfile's built stage."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from mutbot.discover.dockerfile_syntax import stages
from mutbot.discover.dockerfiles import is_dockerfile
from mutbot.packs.model import Edit, Site
from mutbot.packs.view import View

_PLAIN = re.compile(r"[\w.:/@%+,=-]+")
_VALUE = r"""("[^"\\\n]*"|'[^'\n]*'|[^\s"'\\]*)"""
_LINE_END = re.compile(r"[^\n]*")


@dataclass(frozen=True)
class EnvSite:
    """Where a variable the server sees is set, and the span of its value as written."""

    name: str
    value: str  # as the server sees it
    path: str | None  # None: the sandbox's own config sets it, no repository file
    line: int | None
    span: tuple[int, int] | None  # the value as written, inside its quotes; None: not found
    quote: str  # '"', "'" or "" (bare); "legacy" for `ENV NAME value`

    @property
    def site(self) -> Site | None:
        return Site(self.path, self.line or 1, "env") if self.path else None


def env_site(view: View, name: str) -> EnvSite | None:
    """Where the variable `name` the server sees is set; None when nothing sets it."""
    found = view.env(name)
    if found is None:
        return None
    value, source = found
    if source is None or source.line is None:
        return EnvSite(name, value, None, None, None, "")
    text = view.repo.read(source.path) or ""
    located = _locate(source.path, text, source.line, name)
    if located is None:
        return EnvSite(name, value, source.path, source.line, None, "")
    span, quote = located
    return EnvSite(name, value, source.path, text.count("\n", 0, span[0]) + 1, span, quote)


def add_site(view: View) -> Site | None:
    """Where a new `ENV` line would go: the measured Dockerfile's built stage."""
    found = _insertion(view)
    return Site(view.sandbox.dockerfile, found[1], "env") if found else None


def set_env(view: View, name: str, value: str) -> tuple[Edit, ...] | None:
    """Edits that make the server see `name=value`: where it is written, else a new `ENV` line
    in the measured Dockerfile's built stage (after its last ENV, else before its CMD or
    ENTRYPOINT). None when the place is not one a candidate may change, or the value cannot be
    written there safely."""
    site = env_site(view, name)
    if site is not None:
        if site.path is None or site.span is None or not view.editable(site.path):
            return None
        rendered = _render(value, site.quote)
        return (Edit(site.path, *site.span, rendered),) if rendered is not None else None
    found = _insertion(view)
    rendered = _render(value, "")
    if found is None or rendered is None:
        return None
    offset, _, newline = found
    line = f"ENV {name}={rendered}\n"
    return (Edit(view.sandbox.dockerfile, offset, offset, "\n" + line if newline else line),)


def _locate(path: str, text: str, line: int, name: str) -> tuple[tuple[int, int], str] | None:
    start = _line_start(text, line)
    if start is None:
        return None
    base = posixpath.basename(path)
    if is_dockerfile(path):
        return _dockerfile(text, start, name)
    key = re.escape(name)
    if base.endswith((".yml", ".yaml")):
        patterns = [
            rf"[ \t]*-[ \t]*[\"']?{key}=([^\"'\n]*)",  # compose list: - NAME=value
            rf"[ \t]*[\"']?{key}[\"']?[ \t]*:[ \t]*{_VALUE}",  # compose map: NAME: value
        ]
        for pattern in patterns:
            if found := re.compile(pattern).match(text, start):
                return _value(found)
        return _kubernetes(text, start, name)
    if found := re.compile(rf"[ \t]*(?:export[ \t]+)?{key}={_VALUE}").match(text, start):
        return _value(found)
    return None


def _value(found: re.Match[str], group: int = 1) -> tuple[tuple[int, int], str]:
    s, e = found.span(group)
    raw = found[group]
    if raw[:1] in ("'", '"') and len(raw) >= 2 and raw[-1] == raw[0]:
        return (s + 1, e - 1), raw[0]
    return (s, e), ""


def _dockerfile(text: str, start: int, name: str) -> tuple[tuple[int, int], str] | None:
    body = re.compile(r"[ \t]*ENV[ \t]+", re.IGNORECASE).match(text, start)
    if body is None:
        return None
    at = body.end()
    legacy = re.compile(rf"{re.escape(name)}[ \t]+([^\n\\=]*?)[ \t]*$", re.MULTILINE)
    if not re.compile(r"\w+=").match(text, at):
        found = legacy.match(text, at)
        if found is None:
            return None
        quoted = _value(found)  # `ENV NAME "a b"`: the quotes are not part of the value
        return quoted if quoted[1] else (found.span(1), "legacy")
    pair = re.compile(rf"(\w+)={_VALUE}")
    result = None
    while found := pair.match(text, at):
        if found[1] == name:
            result = _value(found, 2)
        gap = re.compile(r"(?:[ \t]|\\\n)*").match(text, found.end())
        at = gap.end() if gap else found.end()
        if at == found.end():
            break
    return result


def _kubernetes(text: str, start: int, name: str) -> tuple[tuple[int, int], str] | None:
    """`- name: NAME` and its `value:` on the same item (this line or the next few)."""
    item = re.compile(rf"([ \t]*)-?[ \t]*name:[ \t]*[\"']?{re.escape(name)}[\"']?[ \t]*$", re.M)
    head = item.match(text, start)
    if head is None:
        return None
    for row in re.finditer(r"\n([ \t]*)(-?)[ \t]*(\w+):", text[head.end() : head.end() + 400]):
        if row[2] or len(row[1]) <= len(head[1]) - (0 if "-" in head[0] else 1):
            return None
        if row[3] == "value":
            at = head.end() + row.end()
            found = re.compile(rf"[ \t]*{_VALUE}").match(text, at)
            return _value(found) if found else None
    return None


def _render(value: str, quote: str) -> str | None:
    """`value` written between the quotes (or bare) so the reader gets exactly it."""
    if "\n" in value:
        return None
    if quote == "legacy" or (quote == "" and _PLAIN.fullmatch(value)):
        return value
    if quote == "'":
        return value if "'" not in value else None
    if any(c in value for c in '"\\$`'):
        return None
    return value if quote == '"' else f'"{value}"'


def _insertion(view: View) -> tuple[int, int, bool] | None:
    """(offset, 1-based line, whether a newline must come first) of a new ENV line."""
    path = view.sandbox.dockerfile
    text = view.repo.read(path)
    if text is None or view.image is None or not view.editable(path):
        return None
    found = stages(text)
    target = view.sandbox.target
    named = [s for s in found if target and (s.alias or "").lower() == target.lower()]
    stage = named[0] if named else (found[-1] if found and not target else None)
    if stage is None:
        return None
    envs = [i for i in stage.body if i.name == "ENV"]
    runs = [i for i in stage.body if i.name in ("CMD", "ENTRYPOINT")]
    if envs:
        line = envs[-1].end + 1  # 0-based: the line after the last ENV
    elif runs:
        line = runs[0].start
    else:
        line = (stage.body[-1] if stage.body else stage.start).end + 1
    offset = _line_start(text, line + 1)
    if offset is None:
        return len(text), text.count("\n") + 2, not text.endswith("\n")
    return offset, line + 1, False


def _line_start(text: str, line: int) -> int | None:
    at = 0
    for _ in range(line - 1):
        at = text.find("\n", at) + 1
        if at == 0:
            return None
    return at
