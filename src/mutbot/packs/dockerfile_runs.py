"""Package managers in RUN instructions (pure): whether a RUN leaves pip's download cache, apt's
recommended packages and package lists or apk's index in its layer, and the insertions that fix
it in the text as written (continuation lines, `apt-get -y install` and `apt-get install -y`
alike). pip accepts an unambiguous prefix of a long option, so `--no-cache` is `--no-cache-dir`."""

from __future__ import annotations

import re

from mutbot.shellcmds import commands, pip_install_args

_SP = r"(?:[ \t]|\\\r?\n)+"  # words apart, maybe across a continuation
_PIP = re.compile(rf"(?<![\w./-])(?:pip[\d.]*|python[\d.]*{_SP}-m{_SP}pip){_SP}install\b")
_VALUED = rf"(?:-o|-c|-t|--option|--target-release){_SP}[^\s\\]+"  # an option and its value
_APT = re.compile(
    rf"(?<![\w-])apt(?:-get)?(?P<opts>(?:{_SP}(?:{_VALUED}|-[^\s\\]+))*){_SP}install\b"
)
_APK = re.compile(rf"(?<![\w-])apk(?P<opts>(?:{_SP}-[^\s\\]+)*){_SP}add\b")
_APK_UPDATE = re.compile(rf"(?<![\w-])apk{_SP}update{_SP}&&(?:{_SP})?")
_UNTIL_NEXT = r"[^&;|]*"  # the rest of one simple command
APT_LISTS = "rm -rf /var/lib/apt/lists/*"
RECOMMENDS, LISTS = "recommended packages", "the package lists"


def no_cache_flag(arg: str) -> bool:
    name = arg.split("=", 1)[0]
    return len(name) >= len("--no-cache") and "--no-cache-dir".startswith(name)


def pip_cache_kept(value: str, no_cache_env: bool) -> bool:
    """A `pip install` that keeps pip's download cache in the layer."""
    if no_cache_env or "PIP_NO_CACHE_DIR=" in value or "--mount=type=cache" in value:
        return False
    cmds = commands(value)
    if any(w[:3] == ["pip", "cache", "purge"] or _removes(w, ".cache/pip") for w in cmds):
        return False
    for words in cmds:
        args = pip_install_args(words)
        if args is not None and not any(no_cache_flag(a) for a in args):
            return True
    return False


def apt_left(value: str, recommends_off: bool) -> list[str]:
    """What an `apt-get install` leaves: recommended packages, the package lists."""
    cmds = commands(value)
    installs = [w for w in cmds if w[0] in ("apt-get", "apt") and _verb(w[1:]) == "install"]
    if not installs or "--mount=type=cache" in value:
        return []
    left = []
    if not recommends_off and not all(_no_recommends(w) for w in installs):
        left.append(RECOMMENDS)
    if not any(_removes(w, "/var/lib/apt/lists") for w in cmds):
        left.append(LISTS)
    return left


def installs_without_update(value: str) -> bool:
    """An `apt-get install` that relies on package lists an earlier layer left."""
    cmds = [w for w in commands(value) if w[0] in ("apt-get", "apt")]
    verbs = [_verb(w[1:]) for w in cmds]
    return "install" in verbs and "update" not in verbs[: verbs.index("install")]


def apk_left(value: str) -> bool:
    cmds = commands(value)
    if any(_removes(w, "/var/cache/apk") for w in cmds) or "--mount=type=cache" in value:
        return False
    adds = [w for w in cmds if w[0] == "apk" and _verb(w[1:]) == "add"]
    updates = [w for w in cmds if w[0] == "apk" and _verb(w[1:]) == "update"]
    return bool(updates) or any("--no-cache" not in w for w in adds)


def _verb(words: list[str]) -> str | None:
    """The first word that is not an option (or an option's value: `-o Dpkg::...`)."""
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in ("-o", "-c", "-t", "--option", "--target-release"):
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def _no_recommends(words: list[str]) -> bool:
    return "--no-install-recommends" in words or any("Install-Recommends" in w for w in words)


def _removes(words: list[str], path: str) -> bool:
    return words[0] == "rm" and any(path in w for w in words[1:])


def pip_inserts(text: str, start: int, end: int) -> list[tuple[int, str]]:
    """(offset, text) insertions adding `--no-cache-dir` to every `pip install` without it."""
    out = []
    for found in _PIP.finditer(text, start, end):
        before = text[start : found.start()]
        if re.search(rf"\buv{_SP}$", before):
            continue  # `uv pip install` has its own cache flag
        if not re.compile(rf"{_UNTIL_NEXT}--no-cach").match(text, found.end(), end):
            out.append((found.end(), " --no-cache-dir"))
    return out


def apt_inserts(
    text: str, start: int, end: int, recommends: bool, lists: bool
) -> list[tuple[int, str]]:
    """Insertions adding `--no-install-recommends` to each install and, at the end of the RUN,
    the removal of the package lists (on a line of its own when the RUN is one command a line)."""
    out = []
    if recommends:
        for found in _APT.finditer(text, start, end):
            rest = re.compile(rf"{_UNTIL_NEXT}Install-Recommends|{_UNTIL_NEXT}--no-install-rec")
            if "--no-install-rec" not in found["opts"] and not rest.match(text, found.end(), end):
                out.append((found.end(), " --no-install-recommends"))
    if lists:
        out.append((end, _appended(text, start, end, APT_LISTS)))
    return out


def apk_edits(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """(start, end, new text): `--no-cache` on each `apk add`, and `apk update &&` dropped."""
    out = [(m.start(), m.end(), "") for m in _APK_UPDATE.finditer(text, start, end)]
    for found in _APK.finditer(text, start, end):
        rest = re.compile(rf"{_UNTIL_NEXT}--no-cache")
        if "--no-cache" not in found["opts"] and not rest.match(text, found.end(), end):
            out.append((found.end(), found.end(), " --no-cache"))
    return out


def _appended(text: str, start: int, end: int, command: str) -> str:
    """`command` after the last one of a RUN: ` && command`, or a continuation line in the
    RUN's style when its last line starts with `&&`."""
    last = text.rfind("\n", start, end) + 1
    if last > start:
        line = text[last:end]
        lead = re.match(r"([ \t]*)&&", line)
        if lead:
            eol = "\r\n" if text[last - 2 : last] == "\r\n" else "\n"
            return f" \\{eol}{lead[1]}&& {command}"
    return f" && {command}"
