"""The JVM: heap size (-Xmx, -Xms, -XX:MaxRAMPercentage), container awareness and the garbage
collector, as the JVM reads its options: JAVA_TOOL_OPTIONS, then JDK_JAVA_OPTIONS, then the
`java` command line (with JAVA_OPTS where the command expands it), the last one winning. A
missing option is added to the `java` command line where a candidate may change it, else to
JAVA_TOOL_OPTIONS. A `-Dserver.port` is seen and never changed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mutbot.discover.model import Source
from mutbot.discover.process import Launch
from mutbot.packs import cmdline, envsites
from mutbot.packs.cmdline import Command
from mutbot.packs.cmdwords import Word
from mutbot.packs.model import Edit, Finding, Move, Reaches, Seen, Setter, Setting, Site, Value
from mutbot.packs.runtimes import added_at, memory_mib, moves, pick, probe, written_at
from mutbot.packs.view import View

NAME = "jvm"
_BASES = re.compile(r"openjdk|temurin|corretto|zulu|semeru|liberica|sapmachine|jre|jdk|java")
_JAVA = re.compile(r"""(?:^|[\s"'/\[])java(?=[\s"',\]]|$)""")
_SIZE = re.compile(r"(\d+)([kKmMgGtT]?)")
_UNITS = {"": 1 / 1024**2, "k": 1 / 1024, "m": 1, "g": 1024, "t": 1024**2}
_GCS = {"Serial": "Serial", "Parallel": "Parallel", "ParallelOld": "Parallel", "G1": "G1",
        "Z": "Z", "Shenandoah": "Shenandoah", "ConcMarkSweep": "ConcMarkSweep",
        "Epsilon": "Epsilon"}  # fmt: skip
_ENVS = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS")  # in the order the JVM applies them

SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("Xmx", "size", None, "the maximum heap", unit="MiB", low=16,
                interacts=("memory", "MaxRAMPercentage"),
                default_note="MaxRAMPercentage of the container's memory limit (25%)"),
        Setting("Xms", "size", None, "the initial heap", unit="MiB", low=1, interacts=("Xmx",),
                default_note="InitialRAMPercentage of the memory limit (1.5625%)"),
        Setting("MaxRAMPercentage", "float", 25.0, "the heap's share of the memory limit "
                "when -Xmx is not set", unit="%", low=1, high=100, interacts=("memory", "Xmx")),
        Setting("InitialRAMPercentage", "float", 1.5625, "the initial heap's share of the "
                "memory limit", unit="%", low=0.1, high=100),
        Setting("UseContainerSupport", "bool", True, "size the JVM from the container's "
                "limits, not the host's", default_note="on from JDK 10 and 8u191"),
        Setting("GC", "enum", None, "the garbage collector", choices=tuple(dict.fromkeys(
                _GCS.values())), interacts=("cpus", "memory"),
                default_note="G1; Serial when the JVM sees fewer than 2 CPUs or under 1792 MiB"),
        Setting("port", "str", None, "the port a -D option gives the application",
                safety="never"),
    )
}  # fmt: skip


@dataclass(frozen=True)
class _Option:
    setting: str
    value: Value
    raw: str
    word: Word | None  # on the command line; else in the variable `env`
    env: str | None = None


def parse(token: str) -> tuple[str, Value] | None:
    """The setting a JVM option sets, and its value."""
    if (found := re.fullmatch(r"-Xm([xs])(\d+[kKmMgGtT]?)", token)) is not None:
        return f"Xm{found[1]}", _mib(found[2])
    if found := re.fullmatch(r"-XX:(MaxRAMPercentage|InitialRAMPercentage)=(\d+(?:\.\d+)?)", token):
        return found[1], float(found[2])
    if found := re.fullmatch(r"-XX:([+-])UseContainerSupport", token):
        return "UseContainerSupport", found[1] == "+"
    if (found := re.fullmatch(r"-XX:\+Use(\w+)GC", token)) and found[1] in _GCS:
        return "GC", _GCS[found[1]]
    if found := re.fullmatch(r"-D(?:server\.port|port|http\.port)=(\S+)", token):
        return "port", found[1]
    return None


def _mib(text: str) -> int | float | None:
    found = _SIZE.fullmatch(text)
    if found is None:
        return None
    value = int(found[1]) * _UNITS[found[2].lower()]
    return int(value) if float(value).is_integer() else round(value, 3)


def token(name: str, value: Value) -> str:
    if name in ("Xmx", "Xms"):
        return f"-{name}{value}m"
    if name in ("MaxRAMPercentage", "InitialRAMPercentage"):
        return f"-XX:{name}={float(value or 0)}"  # JDK 8 rejects a whole number here
    if name == "UseContainerSupport":
        return f"-XX:{'+' if value else '-'}UseContainerSupport"
    return f"-XX:+Use{value}GC"


def in_use(view: View) -> bool:
    base = view.image.base.rsplit("/", 1)[-1] if view.image else ""
    return java(view) is not None or bool(_BASES.search(base))


def java(view: View) -> Launch | None:
    """The `java` command that starts the service: in the image's ENTRYPOINT or CMD, or in the
    script one of them runs."""
    if view.launch is not None and view.launch.program == "java":
        return view.launch
    image = view.image
    for command in (image.entrypoint, image.cmd) if image else ():
        if command is None:
            continue
        words = command.words
        if _JAVA.search(words if isinstance(words, str) else " ".join(words)):
            return Launch("java", ("java",), command.source, {})
        argv = command.argv()
        path = view.in_image(argv[0]) if argv else None
        for number, row in enumerate((view.repo.read(path) or "").splitlines() if path else [], 1):
            if _JAVA.search(row) and not row.lstrip().startswith("#"):
                return Launch("java", ("java",), Source(path or "", number), {})
    return None


def _options(view: View, command: Command | None) -> list[_Option]:
    """Every option in the order the JVM applies them."""
    found: list[_Option] = []

    def from_env(name: str) -> None:
        for raw in (view.env(name) or ("", None))[0].split():
            if parsed := parse(raw):
                found.append(_Option(*parsed, raw, None, name))

    for name in _ENVS:
        from_env(name)
    words = list(command.words[1:]) if command else []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word.text in ("$JAVA_OPTS", "${JAVA_OPTS}"):
            from_env("JAVA_OPTS")
        elif word.text in ("-cp", "-classpath", "--class-path"):
            skip = True
        elif word.text == "-jar" or not word.text.startswith("-"):
            break
        elif parsed := parse(word.text):
            found.append(_Option(*parsed, word.text, word))
    return found


class JvmPack:
    name = NAME
    settings = SETTINGS

    def scan(self, view: View) -> list[Seen]:
        if not in_use(view):
            return []
        launch = java(view)
        command = cmdline.command(view, launch) if launch else None
        options = _options(view, command)
        last = {o.setting: o for o in options}
        seen = []
        for name, setting in SETTINGS.items():
            if setting.safety == "never":
                seen += [self._written(view, o, command) for o in options if o.setting == name]
            elif name in last:
                seen.append(self._written(view, last[name], command))
            else:
                site, reaches, setter = self._adder(view, launch, command, name)
                seen.append(
                    Seen(NAME, setting, setting.default, False, site, None, reaches, setter)
                )
        return seen

    def _written(self, view: View, option: _Option, command: Command | None) -> Seen:
        setting = SETTINGS[option.setting]
        tune = setting.safety == "tune"
        if option.word is not None and command is not None:
            word, path = option.word, command.path
            text = view.repo.read(path) or ""
            site = Site(path, text.count("\n", 0, word.start) + 1, "flag")
            body = word.body
            setter = None
            if body is not None and view.editable(path) and tune:

                def setter(value: Value) -> tuple[Edit, ...]:
                    return (Edit(path, body[0], body[1], token(setting.name, value)),)

            reaches = view.reaches(path)
            return Seen(NAME, setting, option.value, True, site, option.raw, reaches, setter)
        env = option.env or ""
        old = (view.env(env) or ("", None))[0]

        def swap(value: Value) -> tuple[Edit, ...] | None:
            words = [token(setting.name, value) if w == option.raw else w for w in old.split()]
            return envsites.set_env(view, env, " ".join(words))

        site, reaches, _ = written_at(view, env) or (Site(".mutbot.yml", 1, "sandbox"), "none", "")
        make = probe(swap, 50) if tune else None
        return Seen(NAME, setting, option.value, True, site, option.raw, reaches, make)

    def _adder(
        self, view: View, launch: Launch | None, command: Command | None, name: str
    ) -> tuple[Site | None, Reaches, Setter | None]:
        """Right after `java` on its command line when a candidate may change it, else
        appended to JAVA_TOOL_OPTIONS (every JVM reads it, whatever starts it)."""
        if launch is not None and command is not None and view.editable(command.path):
            make = probe(lambda v: cmdline.set_switch(view, launch, token(name, v)), 50)
            text = view.repo.read(command.path) or ""
            line = text.count("\n", 0, command.words[0].start) + 1
            return Site(command.path, line, "flag"), view.reaches(command.path), make
        old = (view.env("JAVA_TOOL_OPTIONS") or ("", None))[0]
        make = probe(
            lambda v: envsites.set_env(
                view, "JAVA_TOOL_OPTIONS", f"{old} {token(name, v)}".strip()
            ),
            50,
        )
        where = written_at(view, "JAVA_TOOL_OPTIONS")
        return (where[0] if where else added_at(view)), "build" if make else "none", make

    def detect(self, view: View, seen: list[Seen]) -> list[Finding]:
        found = {s.setting.name: s for s in seen if s.setting.safety == "tune"}
        if not found:
            return []
        limit = memory_mib(view)
        aware, xmx, share = found["UseContainerSupport"], found["Xmx"], found["MaxRAMPercentage"]
        out: list[Finding] = []
        if aware.value is False and aware.site is not None:
            why = "-XX:-UseContainerSupport: the JVM sizes its heap and threads from the host"
            title = "the JVM ignores the container's limits"
            fix = moves(aware, True, "on: size the JVM from the container")
            out.append(Finding("limits-unseen", NAME, aware.site, why, title, fix, aware.key))
        if xmx.value is None and not share.written and aware.value and share.site is not None:
            why = f"no -Xmx or MaxRAMPercentage: the heap gets 25% of the {limit} MiB limit"
            title = "JVM heap is a quarter of the memory limit"
            fix = moves(share, 75.0, "75%: the heap, with room for metaspace, threads, buffers")
            out.append(Finding("limits-unseen", NAME, share.site, why, title, fix, share.key))
        if isinstance(xmx.value, int | float) and xmx.value >= limit and xmx.site is not None:
            target = int(limit * 0.75)
            why = f"{xmx.raw} is not below the {limit} MiB limit: the kernel kills the JVM first"
            title = "JVM heap larger than the memory limit"
            fix = moves(xmx, target, f"75% of the {limit} MiB limit: {target}")
            out.append(Finding("no-resource-limits", NAME, xmx.site, why, title, fix, xmx.key))
        return out

    def explore(self, view: View, seen: list[Seen]) -> list[Move]:
        found = {s.setting.name: s for s in seen if s.setting.safety == "tune"}
        wanted: list[tuple[str, Value, str]] = [
            ("GC", "G1", "G1: short pauses"),
            ("GC", "Parallel", "Parallel: throughput on few CPUs"),
        ]
        if "Xmx" in found and not found["Xmx"].written:  # a written -Xmx makes % moot
            wanted[:0] = [
                ("MaxRAMPercentage", 75.0, "three quarters of the limit for the heap"),
                ("MaxRAMPercentage", 60.0, "60% of the limit for the heap"),
            ]
        return pick(found, wanted)


PACK = JvmPack()
