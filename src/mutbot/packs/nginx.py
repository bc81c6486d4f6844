"""nginx: the worker, connection and response settings of the configuration the image runs
(the repository's own /etc/nginx/nginx.conf, or the server files it adds to conf.d over the
official image's), read and edited in nginx's own syntax. Listen addresses, server names,
TLS, document roots and upstreams are seen and never changed."""

from __future__ import annotations

import posixpath
import re

from mutbot.discover.dockerfiles import image_path
from mutbot.packs.model import Edit, Finding, Move, Seen, Setter, Setting, Site, Value
from mutbot.packs.nginxconf import Conf, Directive, insertion, parse
from mutbot.packs.runtimes import cpus, moves, pick
from mutbot.packs.view import View

NAME = "nginx"
_MAIN_CONF = "/etc/nginx/nginx.conf"
_INCLUDED = ("/etc/nginx/conf.d/", "/etc/nginx/templates/", "/etc/nginx/sites-enabled/")
_OFFICIAL = re.compile(
    r"(?:docker\.io/)?(?:library/)?(?:nginx|nginxinc/nginx-unprivileged)(?:[:@]|$)"
)
_BASES = re.compile(r"(?:[\w.-]+/)*(?:nginx(?:-unprivileged)?|openresty)(?:[:@]|$)")
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d)?")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
# What the official image's own /etc/nginx/nginx.conf sets, where the repository keeps it.
_IMAGE_CONF: dict[str, Value] = {
    "worker_processes": "auto", "worker_connections": 1024, "sendfile": True,
    "keepalive_timeout": 65,
}  # fmt: skip
_SSL = (
    "certificate", "certificate_key", "protocols", "ciphers", "prefer_server_ciphers",
    "session_cache", "session_timeout", "session_tickets", "session_ticket_key", "dhparam",
    "ecdh_curve", "stapling", "stapling_verify", "trusted_certificate", "client_certificate",
    "verify_client", "verify_depth", "crl", "password_file", "buffer_size", "early_data",
    "conf_command",
)  # fmt: skip
_NEVER = (
    ("listen", "the address and port it listens on"),
    ("server_name", "the names a server block answers"),
    ("root", "the folder files are served from"),
    ("user", "the user workers run as"),
    ("include", "another configuration file"),
    ("proxy_pass", "the upstream requests go to"),
    ("pid", "the pid file"),
    *((f"ssl_{name}", "TLS") for name in _SSL),
    ("ssl", "another TLS directive"),
)
# Defaults are nginx's own (nginx.org's directive reference), not the image's file.
SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("worker_processes", "str", "1", "worker processes: a count, or auto (one per "
                "CPU nginx sees)", interacts=("cpus",)),
        Setting("worker_connections", "int", 512, "connections one worker holds open at once",
                unit="connections", low=1, high=1048576, interacts=("worker_processes",)),
        Setting("keepalive_timeout", "duration", 75, "how long an idle client connection stays",
                unit="s", low=0),
        Setting("gzip", "bool", False, "compress responses"),
        Setting("sendfile", "bool", False, "send files with sendfile(2), not read and write"),
        Setting("proxy_buffering", "bool", True, "buffer upstream responses",
                interacts=("proxy_pass",)),
        *(Setting(name, "str", None, doc, safety="never") for name, doc in _NEVER),
    )
}  # fmt: skip
_TUNING = tuple(name for name, s in SETTINGS.items() if s.safety == "tune")


def in_use(view: View) -> bool:
    base = view.image.base if view.image else ""
    return view.server == "nginx" or bool(_BASES.match(base))


def confs(view: View) -> list[Conf]:
    """The main configuration first (the `-c` file, else the repository file the image holds
    at /etc/nginx/nginx.conf), then the server files it puts where the http block includes."""
    found: list[tuple[str, bool]] = []
    if view.image is None:  # nothing measured: the repository's nginx.conf, for opportunities
        found += [(f, True) for f in view.repo.files if posixpath.basename(f) == "nginx.conf"][:1]
    else:
        argv = list(view.launch.argv) if view.launch and view.server == "nginx" else []
        main = view.in_image(argv[argv.index("-c") + 1] if "-c" in argv[:-1] else _MAIN_CONF)
        found += [(main, True)] if main else []
        for path in view.repo.under(view.sandbox.context):
            held = image_path(view.image, view.sandbox.context, path) or ""
            if held.startswith(_INCLUDED) and held.endswith((".conf", ".conf.template")):
                found.append((path, False))
    out = []
    for path, main_conf in dict.fromkeys(found):
        text = view.repo.read(path)
        if text is not None:
            nodes = parse(text, "main" if main_conf else "http")
            out.append(Conf(path, text, tuple(nodes), main_conf))
    return out


def _value(name: str, raw: str) -> Value:
    if SETTINGS[name].type == "bool":
        return raw == "on"
    if name == "keepalive_timeout":
        found = _DURATION.fullmatch(raw)
        if not found:
            return raw
        seconds = int(found[1]) * _SECONDS[found[2] or "s"]
        return int(seconds) if float(seconds).is_integer() else seconds
    return int(raw) if raw.isdigit() and SETTINGS[name].type == "int" else raw


def _render(name: str, value: Value, raw: str | None) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if name == "keepalive_timeout" and (raw is None or raw.endswith("s")):
        return f"{value}s"
    return str(value)


def _written(found: list[Conf], name: str) -> tuple[Conf, Directive] | None:
    """The occurrence in effect for the measured server: a server block's own, else the http
    block's (or the main context's), else the first in a location."""
    written = [(c, n) for c in found for n in c.nodes if n.name == name and n.args]
    for depth in ("server", "http", "location"):
        for conf, node in written:
            where = node.context[-1]
            if where == depth or (depth == "http" and where in ("main", "events")):
                return conf, node
    return None


def _place(name: str, found: list[Conf], main: Conf | None) -> tuple[Conf, Directive | None]:
    """Where a missing directive goes: worker settings in the main file (worker_connections
    in its events block); the others in its http block, else in the first server block of
    an included file (beside the image's own http-level value it would be a duplicate)."""
    if name == "worker_processes" and main is not None:
        return main, None
    if name == "worker_connections" and main is not None and (block := main.block("events")):
        return main, block
    if name in ("worker_processes", "worker_connections"):
        raise LookupError(name)
    if main is not None and (block := main.block("http")):
        return main, block
    for conf in found:
        if block := conf.block("server"):
            return conf, block
    raise LookupError(name)


def _adder(conf: Conf, block: Directive | None, name: str) -> tuple[int, Setter]:
    at, line, before, after = insertion(conf, block)

    def setter(value: Value) -> tuple[Edit, ...]:
        return (Edit(conf.path, at, at, f"{before}{name} {_render(name, value, None)};{after}"),)

    return line, setter


class NginxPack:
    name = NAME
    settings = SETTINGS

    def scan(self, view: View) -> list[Seen]:
        if not in_use(view):
            return []
        found = confs(view)
        main = next((c for c in found if c.main), None)
        official = view.image is not None and bool(_OFFICIAL.match(view.image.base))
        proxies = any(n.name == "proxy_pass" for c in found for n in c.nodes)
        seen: list[Seen] = []
        for name in _TUNING:
            if name == "proxy_buffering" and not proxies:
                continue
            written = _written(found, name)
            if written is not None:
                seen.append(self._written(view, SETTINGS[name], *written))
            elif main is None and official and name in _IMAGE_CONF:
                seen.append(self._image(view, SETTINGS[name], found))
            else:
                seen.append(self._added(view, SETTINGS[name], found, main))
        return seen + [s for c in found for n in c.nodes if (s := _never(view, c, n))]

    def _written(self, view: View, setting: Setting, conf: Conf, node: Directive) -> Seen:
        raw, start, end = node.args[0]
        name = setting.name

        def setter(value: Value) -> tuple[Edit, ...]:
            return (Edit(conf.path, start, end, _render(name, value, raw)),)

        site = Site(conf.path, conf.line(node.start), "file")
        make = setter if view.editable(conf.path) else None
        value = _value(name, raw)
        return Seen(NAME, setting, value, True, site, node.raw, view.reaches(conf.path), make)

    def _added(self, view: View, setting: Setting, found: list[Conf], main: Conf | None) -> Seen:
        try:
            conf, block = _place(setting.name, found, main)
        except LookupError:
            return Seen(NAME, setting, setting.default, False, None)
        line, setter = _adder(conf, block, setting.name)
        site = Site(conf.path, line, "file")
        make = setter if view.editable(conf.path) else None
        return Seen(
            NAME, setting, setting.default, False, site, None, view.reaches(conf.path), make
        )

    def _image(self, view: View, setting: Setting, found: list[Conf]) -> Seen:
        """Set by the official image's own nginx.conf (the repository adds server files only):
        seen where the Dockerfile names the image. A server block of the repository's can
        still override the http-level ones."""
        value = _IMAGE_CONF[setting.name]
        site = _from_line(view)
        added = self._added(view, setting, found, None)
        setter = added.setter if site is not None and view.editable(site.path) else None
        raw = f"{_render(setting.name, value, '')} (the image's {_MAIN_CONF})"
        return Seen(NAME, setting, value, True, site, raw, "build", setter)

    def detect(self, view: View, seen: list[Seen]) -> list[Finding]:
        found = {s.setting.name: s for s in seen if s.setting.safety == "tune"}
        out: list[Finding] = []
        workers = found.get("worker_processes")
        if workers is not None and workers.value == "1" and workers.site is not None:
            said = "worker_processes 1" if workers.written else "no worker_processes (default 1)"
            why = f"{said}: one nginx process serves every connection on one CPU"
            rule = "auto: one worker per CPU nginx sees (the host's count, not the CPU limit)"
            title = "nginx runs a single worker process"
            fix = moves(workers, "auto", rule)
            out.append(Finding("single-worker", NAME, workers.site, why, title, fix, workers.key))
        pool = found.get("worker_connections")
        limit = pool.value if pool is not None else None
        proxied = "proxy_buffering" in found
        if pool is not None and pool.site and isinstance(limit, int) and limit < 1024 and proxied:
            why = (
                f"worker_connections {limit}: a proxied request holds two connections, about "
                f"{limit // 2} clients per worker"
            )
            title = "nginx worker_connections too few for a proxy"
            fix = moves(pool, 1024, "1024, the nginx image's own value")
            out.append(Finding("tiny-pool", NAME, pool.site, why, title, fix, pool.key))
        return out

    def explore(self, view: View, seen: list[Seen]) -> list[Move]:
        found = {s.setting.name: s for s in seen if s.setting.safety == "tune"}
        limit = cpus(view)
        wanted: list[tuple[str, Value, str]] = [
            ("worker_processes", "auto", "auto: one worker per CPU nginx sees"),
            ("worker_processes", str(limit), f"one worker per CPU of the limit: {limit}"),
            ("worker_connections", 1024, "1024, the nginx image's value"),
            ("worker_connections", 4096, "4096, for many concurrent clients"),
            ("keepalive_timeout", 15, "15 s: fewer idle connections held open"),
            ("gzip", True, "compress responses: CPU for bandwidth"),
            ("proxy_buffering", False, "stream upstream responses as they come"),
        ]
        if any(s.setting.name == "root" for s in seen):  # static files
            wanted.insert(4, ("sendfile", True, "zero-copy file sending"))
        return pick(found, wanted)


def _never(view: View, conf: Conf, node: Directive) -> Seen | None:
    """A directive no proposer changes: seen, with no setter."""
    setting = SETTINGS.get(node.name) or (SETTINGS["ssl"] if node.name.startswith("ssl") else None)
    if setting is None or setting.safety != "never":
        return None
    raw = node.raw if setting.name == node.name else f"{node.name} {node.raw}"
    site = Site(conf.path, conf.line(node.start), "file")
    return Seen(NAME, setting, raw, True, site, raw, view.reaches(conf.path))


def _from_line(view: View) -> Site | None:
    """The Dockerfile line that names the built stage's base image."""
    text = view.repo.read(view.sandbox.dockerfile) if view.image else None
    if view.image is None or text is None:
        return None
    for number, row in enumerate(text.splitlines(), 1):
        words = row.split()
        if words[:1] and words[0].upper() == "FROM" and view.image.base in words:
            return Site(view.sandbox.dockerfile, number, "instruction")
    return None


PACK = NginxPack()
