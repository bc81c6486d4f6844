"""The user the container runs as (pure): who it is today, which non-root user the base image
has or how to create one, where a USER goes (before the final CMD/ENTRYPOINT and its comments),
and whether the service may run as it: a non-root user cannot bind a port below 1024."""

from __future__ import annotations

import itertools

from mutbot.discover.dockerfile_syntax import image_ref
from mutbot.packs.dockerfile_read import Built
from mutbot.packs.view import View
from mutbot.shellcmds import commands

ROOT = {"root", "0"}
_DEBIAN_LIKE = {"python", "node", "ruby", "debian", "ubuntu", "php", "perl", "buildpack-deps"}
_AFTER_START = {"EXPOSE", "LABEL", "HEALTHCHECK", "STOPSIGNAL"}


def is_root(user: str) -> bool:
    return user.split(":")[0] in ROOT


def default_user(built: Built) -> str:
    """The user when no USER is written: distroless `nonroot` images set one, others root."""
    base = image_ref(built.stages[built.chain[0]].image)
    return "nonroot" if "nonroot" in base.tag else "root"


def created_users(built: Built) -> list[str]:
    """The users the built stages create (`useradd … app`, `adduser -S app`)."""
    names: list[str] = []
    for index in built.chain:
        for ins in built.stages[index].body:
            for words in commands(ins.value) if ins.name == "RUN" else []:
                if words[0] in ("useradd", "adduser"):
                    plain = [w for w in words[1:] if not w.startswith("-")]
                    options_with_values = _valued(words[1:])
                    named = [w for w in plain if w not in options_with_values]
                    if named and named[-1] not in names:
                        names.append(named[-1])
    return names


def _valued(words: list[str]) -> set[str]:
    """Words that are the values of options (`-G app`, `--uid 10001`, `-s /bin/sh`)."""
    out = set()
    takes = {"-u", "--uid", "-g", "--gid", "-G", "--groups", "-s", "--shell", "-d", "--home",
             "--home-dir", "-h", "-c", "--comment", "--gecos", "-k", "--ingroup"}  # fmt: skip
    for before, word in itertools.pairwise(words):
        if before in takes:
            out.add(word)
    return out


def plan(built: Built) -> tuple[str, str | None] | None:
    """(user, the RUN command that creates it or None when it exists) for a non-root move;
    None when the base image is not one whose tools are known."""
    created = created_users(built)
    if len(created) == 1:
        return created[0], None
    if created:
        return None  # several users: choosing one is a judgement call
    base = image_ref(built.stages[built.chain[0]].image)
    if base.digest or "$" in built.stages[built.chain[0]].image:
        return None
    alpine = base.name == "alpine" or (base.name in _DEBIAN_LIKE and "alpine" in base.tag)
    if base.name == "node":
        return "node", None  # the node images ship a `node` user (uid 1000)
    if alpine:
        return "app", "addgroup -S app && adduser -S -G app app"
    if base.name in _DEBIAN_LIKE:
        return "app", "useradd --system --uid 10001 --no-create-home app"
    return None


def insert_at(built: Built) -> tuple[int, int]:
    """(offset, 1-based line) where a USER goes: before the final CMD/ENTRYPOINT and the
    comments and metadata right above it, else after the final stage's last instruction."""
    final = built.final
    body = [i for i in final.body if i.name.isalpha()]
    line = (body[-1].end if body else final.start.end) + 1
    for ins in reversed(body):
        if ins.name in ("CMD", "ENTRYPOINT"):
            line = ins.start
            while line > 0 and built.text[built.starts[line - 1] :].lstrip(" \t").startswith("#"):
                line -= 1
        elif ins.name not in _AFTER_START:
            break
    line = min(line, len(built.starts) - 1)
    return built.starts[line], line + 1


def lines(built: Built, user: str, create: str | None) -> str:
    eol = "\r\n" if "\r\n" in built.text else "\n"
    head = f"RUN {create}{eol}" if create else ""
    return f"{head}USER {user}{eol}"


def port_allows(view: View) -> tuple[bool, str]:
    """Whether the service may run as non-root: its port is known and at least 1024."""
    port = view.listen.port if view.listen else None
    if port is None:
        return False, "the port the service binds is not known"
    where = f" ({port.why} in {port.source})" if port.source else f" ({port.why})"
    if port.value < 1024:
        return False, f"it binds port {port.value}{where}, below 1024: root only"
    return True, f"it binds port {port.value}{where}, so it needs no root"
