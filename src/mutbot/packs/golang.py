"""Go: the runtime's own settings, read from the environment the binary starts with and set
with a Dockerfile `ENV` line: GOMAXPROCS against the CPU limit (before Go 1.25 the runtime
counts the host's CPUs; from 1.25, with go.mod's `go` line at 1.25 or later, it follows the
container's CPU limit), GOGC, and GOMEMLIMIT against the memory limit. The address flags the
binary is started with are seen and never changed."""

from __future__ import annotations

import posixpath
import re

from mutbot.discover.serverfiles import PORT_FLAGS
from mutbot.packs import cmdline, envsites
from mutbot.packs.model import Finding, Move, Reaches, Seen, Setting, Site, Value
from mutbot.packs.runtimes import added_at, cpus, memory_mib, moves, pick, probe, written_at
from mutbot.packs.view import View

NAME = "go"
_GO_LINE = re.compile(r"^go\s+(\d+)\.(\d+)", re.MULTILINE)
_BUILDER = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(?:\S+/)?golang:(\d+)\.(\d+)", re.M | re.I)
_BUILDS = re.compile(r"\bgo\s+(?:build|install)\b")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)([KMGT]i)?B?")
_UNITS = {None: 1 / 1024**2, "Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024**2}
_MAXPROCS_MODULE = "go.uber.org/automaxprocs"
_MEMLIMIT_MODULE = "github.com/KimMachineGun/automemlimit"
AWARE = (1, 25)  # the first Go whose GOMAXPROCS default follows the cgroup CPU limit

SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("GOMAXPROCS", "int", None, "threads that run Go code at once", low=1,
                high=1024, interacts=("cpus",),
                default_note="the host's CPUs before Go 1.25; from 1.25 (go.mod's go line) "
                "the container's CPU limit, rounded up"),
        Setting("GOGC", "int", 100, "heap growth (percent) that starts a collection; -1: off",
                unit="%", low=-1, high=10000, interacts=("GOMEMLIMIT",)),
        Setting("GOMEMLIMIT", "size", None, "the soft memory limit the collector works to",
                unit="MiB", low=1, interacts=("memory", "GOGC"),
                default_note="off: the collector ignores the container's memory limit"),
        Setting("address", "str", None, "the address flag the binary listens on",
                safety="never"),
    )
}  # fmt: skip


def _module(view: View) -> str | None:
    mods = [f for f in view.repo.under(view.sandbox.context) if posixpath.basename(f) == "go.mod"]
    return min(mods, key=lambda f: (f.count("/"), f)) if mods else None


def in_use(view: View) -> bool:
    if _module(view) is None:
        return False
    if view.image is None:
        return True
    runs = [text for text, _ in (*view.image.runs, *view.image.builder_runs)]
    return any(_BUILDS.search(text) for text in runs) or view.image.base.startswith("golang:")


def go_version(view: View) -> tuple[int, int] | None:
    """The `go` line of go.mod: it decides the runtime's GODEBUG defaults."""
    path = _module(view)
    found = _GO_LINE.search(view.repo.read(path) or "") if path else None
    return (int(found[1]), int(found[2])) if found else None


def toolchain(view: View) -> tuple[int, int] | None:
    """The Go of the golang builder image, when the Dockerfile names one."""
    found = _BUILDER.search(view.repo.read(view.sandbox.dockerfile) or "") if view.image else None
    return (int(found[1]), int(found[2])) if found else None


def _requires(view: View, module: str) -> bool:
    path = _module(view)
    return bool(path) and module in (view.repo.read(path or "") or "")


def mib(text: str) -> float | int | None:
    """GOMEMLIMIT's text in MiB: a byte count, with an optional KiB/MiB/GiB/TiB suffix."""
    found = _SIZE.fullmatch(text.strip())
    if found is None:
        return None
    value = float(found[1]) * _UNITS[found[2]]
    return int(value) if value.is_integer() else round(value, 3)


def _parse(setting: Setting, raw: str) -> Value:
    if setting.name == "GOMEMLIMIT":
        return mib(raw)
    if setting.name == "GOGC" and raw.strip().lower() == "off":
        return -1
    return int(raw) if raw.strip().isdigit() else None


def _render(setting: Setting, value: Value) -> str:
    if setting.name == "GOMEMLIMIT":
        return f"{value}MiB"
    if setting.name == "GOGC" and value == -1:
        return "off"
    return str(value)


class GoPack:
    name = NAME
    settings = SETTINGS

    def scan(self, view: View) -> list[Seen]:
        if not in_use(view):
            return []
        seen = [self._variable(view, SETTINGS[n]) for n in ("GOMAXPROCS", "GOGC", "GOMEMLIMIT")]
        return seen + self._addresses(view)

    def _variable(self, view: View, setting: Setting) -> Seen:
        make = probe(
            lambda v: envsites.set_env(view, setting.name, _render(setting, v)),
            64 if setting.name == "GOMEMLIMIT" else 1,
        )
        found = written_at(view, setting.name)
        if found is None:
            reaches: Reaches = "build" if make else "none"
            return Seen(NAME, setting, setting.default, False, added_at(view), None, reaches, make)
        site, reaches, raw = found
        return Seen(NAME, setting, _parse(setting, raw), True, site, raw, reaches, make)

    def _addresses(self, view: View) -> list[Seen]:
        """Address flags as the binary gets them; where the command line is not one file's
        (an ENTRYPOINT and its CMD), at the line that starts it."""
        launch = view.launch
        if launch is None:
            return []
        names = {f"-{n}" for n in PORT_FLAGS} | {f"--{n}" for n in PORT_FLAGS}
        found = [
            (f.name, f.value, Site(f.path, f.line or 1, "flag"))
            for f in cmdline.flags(view, launch)
            if f.name in names and f.value is not None and f.path is not None
        ]
        if not found:
            argv, at = launch.argv, Site(launch.source.path, launch.source.line or 1, "command")
            for i, word in enumerate(argv[1:], 1):
                name, equals, value = word.partition("=")
                if name in names and (equals or i + 1 < len(argv)):
                    found.append((name, value if equals else argv[i + 1], at))
        setting = SETTINGS["address"]
        return [
            Seen(NAME, setting, value, True, site, f"{name} {value}", view.reaches(site.path))
            for name, value, site in found
        ]

    def detect(self, view: View, seen: list[Seen]) -> list[Finding]:
        found = {s.setting.name: s for s in seen if s.setting.safety == "tune"}
        return [*self._maxprocs(view, found), *self._memlimit(view, found)]

    def _maxprocs(self, view: View, found: dict[str, Seen]) -> list[Finding]:
        procs, limit = found.get("GOMAXPROCS"), cpus(view)
        if procs is None or procs.site is None:
            return []
        if isinstance(procs.value, int) and procs.value > limit:
            why = (
                f"GOMAXPROCS={procs.value} over a {view.sandbox.cpus:g}-CPU limit: the runtime's "
                "threads are throttled"
            )
            title = "GOMAXPROCS above the CPU limit"
        elif procs.value is None and not procs.written and self._counts_host(view):
            version = go_version(view)
            said = f"go.mod says go {version[0]}.{version[1]}" if version else "no go line"
            why = (
                f"{said}: before Go 1.25 GOMAXPROCS defaults to the host's CPUs, not the "
                f"{view.sandbox.cpus:g}-CPU limit, and the runtime's threads are throttled"
            )
            title = "Go schedules on every CPU of the host"
        else:
            return []
        fix = moves(procs, limit, f"the CPU limit, rounded up: {limit}")
        return [Finding("limits-unseen", NAME, procs.site, why, title, fix, procs.key)]

    def _counts_host(self, view: View) -> bool:
        if _requires(view, _MAXPROCS_MODULE):
            return False  # automaxprocs sets it from the CPU quota at start
        godebug = view.env("GODEBUG")
        if godebug and "containermaxprocs=0" in godebug[0]:
            return True
        version, built = go_version(view), toolchain(view)
        return version is None or version < AWARE or (built is not None and built < AWARE)

    def _memlimit(self, view: View, found: dict[str, Seen]) -> list[Finding]:
        limit, built = found.get("GOMEMLIMIT"), toolchain(view)
        if (
            limit is None
            or limit.site is None
            or limit.written
            or _requires(view, _MEMLIMIT_MODULE)
        ):
            return []
        if built is not None and built < (1, 19):
            return []  # the runtime reads GOMEMLIMIT from Go 1.19 on
        memory = memory_mib(view)
        target = int(memory * 0.9)
        why = (
            f"no GOMEMLIMIT: the collector ignores the {memory} MiB limit, so a growing heap is "
            "killed by the kernel before the collector runs harder"
        )
        title = "Go's collector does not know the memory limit"
        fix = moves(limit, target, f"90% of the {memory} MiB limit: {target}")
        return [Finding("limits-unseen", NAME, limit.site, why, title, fix, limit.key)]

    def explore(self, view: View, seen: list[Seen]) -> list[Move]:
        found = {s.setting.name: s for s in seen if s.setting.safety == "tune"}
        return pick(
            found,
            [
                ("GOMAXPROCS", cpus(view), f"the CPU limit, rounded up: {cpus(view)}"),
                ("GOMEMLIMIT", int(memory_mib(view) * 0.9), "90% of the memory limit"),
                ("GOGC", 200, "collect half as often: memory for CPU"),
                ("GOGC", 50, "collect twice as often: CPU for memory"),
            ],
        )


PACK = GoPack()
