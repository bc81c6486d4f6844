"""Node.js: pm2's process count and mode (in its ecosystem file, or `-i` on its command
line), NODE_ENV, the V8 heap limit (`--max-old-space-size` on the node command line, in pm2's
`node_args` or in NODE_OPTIONS) against the memory limit, and libuv's thread pool. pm2's
`autorestart` and `watch`, the script it runs and the port are seen and never changed."""

from __future__ import annotations

import re

from mutbot.packs import cmdline, envsites
from mutbot.packs.model import Edit, Finding, Move, Reaches, Seen, Setter, Setting, Site, Value
from mutbot.packs.pm2file import Obj, Prop, apps
from mutbot.packs.runtimes import added_at, cpus, memory_mib, moves, pick, probe, written_at
from mutbot.packs.view import View

NAME = "node"
_NODES = {"node", "nodemon", "ts-node"}
_PM2 = {"pm2", "pm2-runtime", "pm2-docker"}
_BASE = re.compile(r"(?:[\w.-]+/)*node(?:[:@]|$)")
_ECOSYSTEM = re.compile(r"(?:ecosystem|process|pm2)[\w.-]*\.(?:c?js|json)$")
_HEAP = re.compile(r"--max[-_]old[-_]space[-_]size[= ](\d+)")
_HEAP_FLAGS = ("--max-old-space-size", "--max_old_space_size")
_HOST_CPUS = re.compile(r"^(?:max|0|-1)$|cpus\(\)|availableParallelism\(\)")

SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("instances", "str", "1", "pm2 processes: a count, or max (every CPU of the host)",
                interacts=("cpus", "exec_mode", "max_old_space_size")),
        Setting("exec_mode", "enum", "fork", "pm2 runs one process (fork) or a cluster of them",
                choices=("fork", "cluster"), interacts=("instances",),
                default_note="pm2 picks cluster for a node script when `instances` is set"),
        Setting("NODE_ENV", "str", None, "production turns off development behaviour in "
                "Express and many libraries"),
        Setting("max_old_space_size", "size", None, "the V8 old-space (heap) limit",
                unit="MiB", low=16, interacts=("memory", "instances"),
                default_note="V8 sizes it from the memory it sees: a share of the container's "
                "limit (Node 12 on), at most 2 to 4 GiB"),
        Setting("UV_THREADPOOL_SIZE", "int", 4, "libuv threads for file, DNS, crypto and zlib "
                "work", low=1, high=1024),
        Setting("autorestart", "str", None, "pm2 restarts a crashed app", safety="never",
                default_note="true"),
        Setting("watch", "str", None, "pm2 restarts on file changes", safety="never"),
        Setting("script", "str", None, "the script pm2 starts", safety="never"),
        Setting("PORT", "str", None, "the port the app listens on", safety="never"),
    )
}  # fmt: skip


def in_use(view: View) -> bool:
    base = view.image.base if view.image else ""
    return view.server in _NODES | _PM2 or (view.server is None and bool(_BASE.match(base)))


def ecosystem(view: View) -> tuple[Obj | None, list[Obj]]:
    """The app pm2 starts from its ecosystem file (`--only` names it, else the first), and its
    env blocks in the order pm2 applies them (`env`, then `env_<name>` of `--env name`)."""
    launch = view.launch
    if launch is None or view.server not in _PM2:
        return None, []
    argv = list(launch.argv[1:])
    valued = ("--env", "--only", "-i", "--instances", "--name")
    words = [
        w
        for i, w in enumerate(argv)
        if not w.startswith("-") and w != "start" and (i == 0 or argv[i - 1] not in valued)
    ]
    path = view.in_image(words[0]) if words else None
    text = view.repo.read(path) if path and _ECOSYSTEM.search(path) else None
    found = apps(path, text) if path and text else []
    only = _option(argv, "--only")
    chosen = [a for a in found if only and (p := a.get("name")) and p.literal == only] or found
    if not chosen:
        return None, []
    app = chosen[0]
    names = ["env"] + ([f"env_{name}"] if (name := _option(argv, "--env")) else [])
    return app, [env for n in names if (env := app.inner(n)) is not None]


def _option(argv: list[str], name: str) -> str | None:
    for i, word in enumerate(argv):
        if word == name and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return None


def _in_file(view: View, obj: Obj, prop: Prop, setting: Setting, value: Value) -> Seen:
    def setter(new: Value) -> tuple[Edit, ...]:
        return (obj.change(prop, new),)

    editable = view.editable(obj.path)
    site = Site(obj.path, obj.line(prop.key_start), "file")
    make = setter if editable else None
    return Seen(NAME, setting, value, True, site, prop.text, view.reaches(obj.path), make)


def _added(view: View, obj: Obj, setting: Setting, after: Prop | None = None) -> Seen:
    def setter(new: Value) -> tuple[Edit, ...]:
        return obj.add(setting.name, new, after)

    site = Site(obj.path, obj.add_line(setting.name, after), "file")
    make = setter if view.editable(obj.path) else None
    return Seen(NAME, setting, setting.default, False, site, None, view.reaches(obj.path), make)


def _env_seen(
    view: View, setting: Setting, value: Value, make: Setter | None, name: str | None = None
) -> Seen:
    """A variable set in the image or the sandbox config, else where an ENV line would go."""
    found = written_at(view, name or setting.name)
    if found is None:
        reaches: Reaches = "build" if make else "none"
        return Seen(NAME, setting, setting.default, False, added_at(view), None, reaches, make)
    site, reaches, raw = found
    return Seen(NAME, setting, value, True, site, raw, reaches, make)


def _typed(setting: Setting, raw: str) -> Value:
    if setting.type in ("int", "size"):
        return int(raw) if raw.isdigit() else None
    return raw


class NodePack:
    name = NAME
    settings = SETTINGS

    def scan(self, view: View) -> list[Seen]:
        if not in_use(view):
            return []
        app, envs = ecosystem(view)
        seen: list[Seen] = []
        if view.server in _PM2:
            seen += self._pm2(view, app)
        for name in ("NODE_ENV", "UV_THREADPOOL_SIZE"):
            seen.append(self._variable(view, SETTINGS[name], envs))
        seen.append(self._heap(view, app, envs))
        return seen + self._never(view, app, envs)

    def _pm2(self, view: View, app: Obj | None) -> list[Seen]:
        instances, mode = SETTINGS["instances"], SETTINGS["exec_mode"]
        if app is not None:
            written = app.get("instances")
            if written is not None:
                first = _in_file(view, app, written, instances, written.literal)
            else:
                first = _added(view, app, instances)
            mode_prop = app.get("exec_mode")
            if mode_prop is not None:
                value = mode_prop.literal.removesuffix("_mode")
                return [first, _in_file(view, app, mode_prop, mode, value)]
            return [first, _added(view, app, mode, written or _before_last(app))]
        launch = view.launch
        if launch is None:
            return []
        flag = cmdline.flag(view, launch, ("-i", "--instances"))
        # pm2 itself takes options after its sub-command; pm2-runtime after the program word
        adds = flag is not None or view.server != "pm2"
        make = probe(lambda v: cmdline.set_flag(view, launch, ("-i", "--instances"), v), "2")
        make = make if adds else None
        where = launch.source
        site = Site(flag.path, flag.line or 1, "flag") if flag and flag.path else None
        site = site or (Site(where.path, where.line or 1, "command") if make else None)
        found = (
            Seen(NAME, instances, flag.value, True, site, flag.value, "command", make)
            if flag is not None and flag.value is not None and site is not None
            else Seen(NAME, instances, instances.default, False, site, None, "command", make)
        )
        return [found, Seen(NAME, mode, mode.default, False, None)]

    def _variable(self, view: View, setting: Setting, envs: list[Obj]) -> Seen:
        for env in reversed(envs):  # pm2's app env overrides the container's
            if (prop := env.get(setting.name)) is not None:
                return _in_file(view, env, prop, setting, _typed(setting, prop.literal))
        make = probe(lambda v: envsites.set_env(view, setting.name, str(v)), "8")
        found = view.env(setting.name)
        return _env_seen(view, setting, _typed(setting, found[0]) if found else None, make)

    def _heap(self, view: View, app: Obj | None, envs: list[Obj]) -> Seen:
        """Where the heap limit is written, in the order node reads it: its command line (or
        pm2's node_args), then NODE_OPTIONS; else added to NODE_OPTIONS (node rejects a V8
        flag and its value as two words, which is how a flag is added to a command line)."""
        setting, launch = SETTINGS["max_old_space_size"], view.launch
        if launch is not None and view.server in _NODES:
            flag = cmdline.flag(view, launch, _HEAP_FLAGS)
            if flag is not None and flag.value and flag.value.isdigit() and flag.path:
                make = probe(lambda v: cmdline.set_flag(view, launch, _HEAP_FLAGS, v), 64)
                site = Site(flag.path, flag.line or 1, "flag")
                return Seen(NAME, setting, int(flag.value), True, site, flag.value, "command", make)
        places = [app.get(k) for k in ("node_args", "interpreter_args")] if app else []
        owners = [app, app] if app else []
        places += [env.get("NODE_OPTIONS") for env in envs]
        owners += envs
        for obj, prop in reversed([(o, p) for o, p in zip(owners, places, strict=True) if p]):
            if obj is not None and (found := _HEAP.search(prop.text)):
                return self._heap_in_file(view, setting, obj, prop, found)
        owner = next(((e, p) for e in reversed(envs) if (p := e.get("NODE_OPTIONS"))), None)
        if owner is not None:  # the app's own NODE_OPTIONS hides the container's
            env, prop = owner

            def append(value: Value) -> tuple[Edit, ...]:
                return (env.change(prop, f"{prop.literal} --max-old-space-size={value}"),)

            site = Site(env.path, env.line(prop.key_start), "file")
            make = append if view.editable(env.path) else None
            return Seen(NAME, setting, None, False, site, None, view.reaches(env.path), make)
        options = view.env("NODE_OPTIONS")
        old = options[0] if options else ""
        if (found := _HEAP.search(old)) is not None:
            before, after = old[: found.start(1)], old[found.end(1) :]
        else:
            before, after = f"{old} --max-old-space-size=".lstrip(), ""
        make = probe(lambda v: envsites.set_env(view, "NODE_OPTIONS", f"{before}{v}{after}"), 64)
        if found is not None:
            return _env_seen(view, setting, int(found[1]), make, "NODE_OPTIONS")
        at = written_at(view, "NODE_OPTIONS")
        added = at[0] if at else added_at(view)
        return Seen(NAME, setting, None, False, added, None, "build" if make else "none", make)

    def _heap_in_file(
        self, view: View, setting: Setting, obj: Obj, prop: Prop, found: re.Match[str]
    ) -> Seen:
        start, end = prop.start + found.start(1), prop.start + found.end(1)

        def setter(value: Value) -> tuple[Edit, ...]:
            return (Edit(obj.path, start, end, str(value)),)

        site = Site(obj.path, obj.line(prop.key_start), "file")
        make = setter if view.editable(obj.path) else None
        return Seen(
            NAME, setting, int(found[1]), True, site, found[0], view.reaches(obj.path), make
        )

    def _never(self, view: View, app: Obj | None, envs: list[Obj]) -> list[Seen]:
        found = [(app, app.get(k), k) for k in ("script", "autorestart", "watch")] if app else []
        found += [(env, env.get("PORT"), "PORT") for env in envs if env.get("PORT")][-1:]
        out = []
        for obj, prop, key in found:
            if prop is not None:
                site = Site(obj.path, obj.line(prop.key_start), "file")
                reaches = view.reaches(obj.path)
                out.append(Seen(NAME, SETTINGS[key], prop.literal, True, site, prop.text, reaches))
        if not any(s.setting.name == "PORT" for s in out) and (port := view.env("PORT")):
            out.append(_env_seen(view, SETTINGS["PORT"], port[0], None))
        return out

    def detect(self, view: View, seen: list[Seen]) -> list[Finding]:
        found = {s.setting.name: s for s in seen if s.setting.safety == "tune"}
        return [*_processes(view, found), *_environment(found), *_heap(view, found)]

    def explore(self, view: View, seen: list[Seen]) -> list[Move]:
        processes = _processes_of(view, {s.setting.name: s for s in seen})
        found = {s.setting.name: s for s in seen if s.setting.safety == "tune"}
        n, limit = cpus(view), memory_mib(view)
        wanted: list[tuple[str, Value, str]] = [
            ("instances", str(max(2, n)), f"CPUs, at least 2: {max(2, n)}"),
            ("instances", str(2 * n), f"2 × CPUs: {2 * n}"),
            ("NODE_ENV", "production", "production"),
            ("max_old_space_size", max(16, int(limit * 0.75 / processes)), "75% of the limit"),
            ("max_old_space_size", max(16, int(limit * 0.5 / processes)), "half the limit"),
            ("UV_THREADPOOL_SIZE", 8, "8 libuv threads"),
            ("UV_THREADPOOL_SIZE", 16, "16 libuv threads"),
        ]
        return pick(found, wanted)


def _processes(view: View, found: dict[str, Seen]) -> list[Finding]:
    """The single-process default (pm2's one instance, or a plain `node`), and a count that
    follows the host's CPUs instead of the container's limit."""
    instances, mode, n = found.get("instances"), found.get("exec_mode"), cpus(view)
    if instances is None or instances.site is None:
        launch = view.launch
        if view.server not in _NODES or launch is None:
            return []
        site = Site(launch.source.path, launch.source.line or 1, "command")
        why = (
            "node starts one process: one CPU core serves every request (pm2 cluster mode or "
            "node:cluster would use the others)"
        )
        return [Finding("single-worker", NAME, site, why, "node runs a single process")]
    value = str(instances.value)
    if value == "1":
        target = max(2, n)
        rule = f"CPUs (limit {view.sandbox.cpus:g}), at least 2: {target}"
        said = "instances: 1" if instances.written else "no instances (pm2 starts one)"
        why, title = f"{said}: one Node process serves every request", "pm2 runs a single instance"
        category = "single-worker"
    elif _HOST_CPUS.search(value):
        target = n
        rule = f"the CPU limit: {n} ({value!r} counts the host's CPUs, not the container's)"
        why = f"instances: {value} starts a process per CPU of the host, not of the {n}-CPU limit"
        title = "pm2 instances count the host's CPUs"
        category = "limits-unseen"
    else:
        return []
    fix = moves(instances, str(target), rule)
    if fix and mode is not None and mode.value != "cluster":
        fix += moves(mode, "cluster", "cluster: the instances share one port")
    return [Finding(category, NAME, instances.site, why, title, fix, instances.key)]


def _environment(found: dict[str, Seen]) -> list[Finding]:
    env = found.get("NODE_ENV")
    if env is None or env.value == "production" or env.site is None:
        return []
    said = f"NODE_ENV={env.value}" if env.written else "NODE_ENV is not set"
    why = (
        f"{said}: Express caches templates and libraries drop development checks only in production"
    )
    fix = moves(env, "production", "production")
    return [
        Finding("cache-disabled", NAME, env.site, why, "NODE_ENV is not production", fix, env.key)
    ]


def _heap(view: View, found: dict[str, Seen]) -> list[Finding]:
    """No heap limit under a small memory limit (V8 keeps the heap to a share of it), or one
    the processes together cannot fit."""
    heap = found.get("max_old_space_size")
    if heap is None or heap.site is None:
        return []
    limit, processes = memory_mib(view), _processes_of(view, found)
    target = max(16, int(limit * 0.75 / processes))
    over = f" over {processes} processes" if processes > 1 else ""
    fix = moves(heap, target, f"75% of the {limit} MiB limit{over}: {target}")
    if heap.value is None and limit <= 4096:
        why = (
            f"no --max-old-space-size: V8 keeps the heap to a share of the {limit} MiB limit and "
            "fails with heap out of memory well before the container would"
        )
        title = "Node heap not sized to the memory limit"
        return [Finding("limits-unseen", NAME, heap.site, why, title, fix, heap.key)]
    if isinstance(heap.value, int) and heap.value * processes > limit:
        why = (
            f"--max-old-space-size={heap.value} for {processes} process(es) is over the {limit} "
            "MiB limit: the kernel kills the container before V8 collects"
        )
        title = "Node heap larger than the memory limit"
        return [Finding("no-resource-limits", NAME, heap.site, why, title, fix, heap.key)]
    return []


def _processes_of(view: View, found: dict[str, Seen]) -> int:
    """How many node processes share the memory limit."""
    value = str(found["instances"].value) if "instances" in found else "1"
    if _HOST_CPUS.search(value):
        return cpus(view)
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _before_last(app: Obj) -> Prop | None:
    """Where a missing exec_mode goes when instances is missing too: before the last property,
    so the two additions of one fix never land on the same spot."""
    return app.props[-2] if len(app.props) >= 2 else None


PACK = NodePack()
