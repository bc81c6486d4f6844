from __future__ import annotations

from pathlib import Path

from mutbot.packs.model import Seen
from mutbot.packs.nginx import PACK
from mutbot.packs.nginxconf import parse
from mutbot.packs.view import Sandbox
from testing.packs import applied, by_key, proves, sample_files, view_of

MIB = 1024 * 1024
SAMPLES = Path(__file__).resolve().parents[2] / "testing" / "packs"
SANDBOX = Sandbox(cpus=2.0, memory=512 * MIB)
MAIN = "FROM nginx:1.27-alpine\nCOPY nginx.conf /etc/nginx/nginx.conf\nEXPOSE 8080\n"
SERVERS = "FROM nginx:1.27\nCOPY default.conf /etc/nginx/conf.d/default.conf\nEXPOSE 80\n"
PROXY = """server {
    listen 80;
    server_name api.example.com;

    location / {
        proxy_pass http://127.0.0.1:8000;
    }
}
"""


def load(name: str) -> dict[str, str]:
    return sample_files(SAMPLES / name, config=False)


def state(seen: list[Seen]) -> dict[str, tuple[object, bool]]:
    return {s.setting.name: (s.value, s.written) for s in seen if s.setting.safety == "tune"}


def never(seen: list[Seen]) -> list[tuple[str, object]]:
    return [(s.setting.name, s.value) for s in seen if s.setting.safety == "never"]


def everything_proves(files: dict[str, str], sandbox: Sandbox = SANDBOX) -> int:
    view = view_of(files, sandbox)
    seen = PACK.scan(view)
    moves = [m for f in PACK.detect(view, seen) for m in f.fix] + PACK.explore(view, seen)
    for move in moves:
        assert move.seen.setting.safety == "tune"
        proves(PACK, files, move, sandbox)
    return len(moves)


def test_the_static_sample_reads_its_own_nginx_conf_with_defaults_for_the_rest() -> None:
    files = load("nginx-static")
    seen = PACK.scan(view_of(files, SANDBOX))
    assert state(seen) == {
        "worker_processes": ("1", False),
        "worker_connections": (512, True),
        "keepalive_timeout": (65, True),
        "gzip": (False, False),
        "sendfile": (True, True),
    }
    assert never(seen) == [
        ("user", "nginx"),
        ("pid", "/var/run/nginx.pid"),
        ("include", "/etc/nginx/mime.types"),
        ("listen", "8080"),
        ("server_name", "_"),
        ("root", "/usr/share/nginx/html"),
    ]
    found = by_key(seen)
    assert str(found["nginx.worker_processes"].site) == "nginx.conf:4"
    assert str(found["nginx.gzip"].site) == "nginx.conf:10"
    assert all(s.reaches == "build" for s in seen)
    assert all(s.setter is None for s in seen if s.setting.safety == "never")


def test_the_single_worker_default_is_found_and_fixed_with_auto() -> None:
    files = load("nginx-static")
    view = view_of(files, SANDBOX)
    (finding,) = PACK.detect(view, PACK.scan(view))
    assert (finding.category, finding.title, finding.key) == (
        "single-worker",
        "nginx runs a single worker process",
        "nginx.worker_processes",
    )
    assert str(finding.site) == "nginx.conf:4"
    (move,) = finding.fix
    assert move.value == "auto" and "host" in move.rule
    after = applied(files, move)["nginx.conf"]
    assert after.startswith(
        "user  nginx;\npid   /var/run/nginx.pid;\nerror_log  /var/log/nginx/error.log warn;\n"
        "worker_processes auto;\n\nevents {\n"
    )
    proves(PACK, files, move, SANDBOX)
    assert (
        PACK.detect(
            view_of(applied(files, move), SANDBOX),
            PACK.scan(view_of(applied(files, move), SANDBOX)),
        )
        == []
    )


def test_every_move_on_the_sample_proves_itself() -> None:
    assert everything_proves(load("nginx-static")) >= 5


def test_an_explicit_single_worker_and_a_small_pool_behind_a_proxy() -> None:
    conf = (
        "worker_processes 1;\n\nevents {\n  worker_connections 256;\n}\n\nhttp {\n"
        "  keepalive_timeout 1m;\n" + PROXY.replace("\n", "\n  ").rstrip() + "\n}\n"
    )
    files = {"Dockerfile": MAIN, "nginx.conf": conf}
    view = view_of(files, SANDBOX)
    seen = PACK.scan(view)
    assert state(seen)["keepalive_timeout"] == (60, True)
    assert state(seen)["proxy_buffering"] == (True, False)
    findings = {f.title: f for f in PACK.detect(view, seen)}
    assert set(findings) == {
        "nginx runs a single worker process",
        "nginx worker_connections too few for a proxy",
    }
    pool = findings["nginx worker_connections too few for a proxy"]
    assert pool.category == "tiny-pool" and "128 clients" in pool.why
    assert (
        "worker_processes auto;"
        in applied(files, findings["nginx runs a single worker process"].fix[0])["nginx.conf"]
    )
    assert "worker_connections 1024;" in applied(files, pool.fix[0])["nginx.conf"]
    assert everything_proves(files) >= 6


def test_server_files_over_the_official_image_read_the_images_own_conf() -> None:
    files = {"Dockerfile": SERVERS, "default.conf": PROXY}
    view = view_of(files, SANDBOX)
    seen = PACK.scan(view)
    assert state(seen) == {
        "worker_processes": ("auto", True),
        "worker_connections": (1024, True),
        "keepalive_timeout": (65, True),
        "gzip": (False, False),
        "sendfile": (True, True),
        "proxy_buffering": (True, False),
    }
    found = by_key(seen)
    assert str(found["nginx.worker_processes"].site) == "Dockerfile:1"
    assert found["nginx.worker_processes"].setter is None  # main context: not in a server file
    assert str(found["nginx.gzip"].site) == "default.conf:2"
    assert PACK.detect(view, seen) == []  # the image runs one worker per CPU already
    keepalive = next(
        m for m in PACK.explore(view, seen) if m.seen.setting.name == "keepalive_timeout"
    )
    assert applied(files, keepalive)["default.conf"].startswith(
        "server {\n    keepalive_timeout 15s;\n    listen 80;\n"
    )
    assert everything_proves(files) >= 3


def test_a_one_line_block_gets_the_directive_inline() -> None:
    conf = "events { worker_connections 512; }\nhttp { server { listen 8080; root /srv; } }\n"
    files = {"Dockerfile": MAIN, "nginx.conf": conf}
    view = view_of(files, SANDBOX)
    gzip = next(m for m in PACK.explore(view, PACK.scan(view)) if m.seen.setting.name == "gzip")
    assert applied(files, gzip)["nginx.conf"].endswith(
        "http { gzip on; server { listen 8080; root /srv; } }\n"
    )
    assert everything_proves(files) >= 4


def test_tls_and_addresses_are_seen_and_never_moved() -> None:
    conf = (
        "events {}\nhttp {\n  server {\n    listen 443 ssl;\n    server_name shop.example;\n"
        "    ssl_certificate /etc/ssl/shop.pem;\n    ssl_protocols TLSv1.2 TLSv1.3;\n"
        "    ssl_reject_handshake off;\n    root /srv;\n  }\n}\n"
    )
    files = {"Dockerfile": MAIN, "nginx.conf": conf}
    view = view_of(files, SANDBOX)
    seen = PACK.scan(view)
    assert never(seen) == [
        ("listen", "443 ssl"),
        ("server_name", "shop.example"),
        ("ssl_certificate", "/etc/ssl/shop.pem"),
        ("ssl_protocols", "TLSv1.2 TLSv1.3"),
        ("ssl", "ssl_reject_handshake off"),
        ("root", "/srv"),
    ]
    lines = {s.site.line for s in seen if s.setting.safety == "never" and s.site}
    moves = [m for f in PACK.detect(view, seen) for m in f.fix] + PACK.explore(view, seen)
    for move in moves:
        changed = applied(files, move)["nginx.conf"].splitlines()
        kept = conf.splitlines()
        assert all(kept[n - 1] in changed for n in lines), move.change


def test_a_conf_the_sandbox_does_not_measure_is_only_an_opportunity() -> None:
    files = {"Dockerfile": MAIN, "nginx.conf": "events {}\nhttp {}\n"}
    view = view_of(files, SANDBOX, targets={"Dockerfile"})
    seen = PACK.scan(view)
    assert all(s.setter is None for s in seen)
    (finding,) = PACK.detect(view, seen)
    assert finding.title == "nginx runs a single worker process" and finding.fix == ()
    assert PACK.explore(view, seen) == []


def test_the_conf_named_by_dash_c_is_the_main_one() -> None:
    dockerfile = (
        "FROM nginx:1.27\nCOPY deploy/edge.conf /etc/nginx/edge.conf\n"
        'CMD ["nginx", "-c", "/etc/nginx/edge.conf", "-g", "daemon off;"]\n'
    )
    files = {
        "Dockerfile": dockerfile,
        "deploy/edge.conf": "worker_processes 4;\nevents {}\nhttp {}\n",
    }
    seen = PACK.scan(view_of(files, SANDBOX))
    assert state(seen)["worker_processes"] == ("4", True)
    assert str(by_key(seen)["nginx.worker_processes"].site) == "deploy/edge.conf:1"


def test_other_technologies_are_not_nginx() -> None:
    dockerfile = "FROM python:3.12-slim\nCOPY nginx.conf /etc/nginx/nginx.conf\nCMD python app.py\n"
    files = {"Dockerfile": dockerfile}
    assert PACK.scan(view_of({**files, "nginx.conf": "events {}\n"}, SANDBOX)) == []


def test_the_parser_reads_comments_quotes_and_variables_as_nginx_does() -> None:
    text = (
        "# worker_processes 8;\nhttp {\n  log_format main '$remote_addr \"$request\"'; # x;\n"
        "  server { listen ${NGINX_PORT}; location ~ \\.php$ { return 404; } }\n}\n"
    )
    nodes = parse(text)
    assert [(n.name, n.raw, n.context) for n in nodes] == [
        ("http", "", ("main",)),
        ("log_format", 'main $remote_addr "$request"', ("main", "http")),
        ("server", "", ("main", "http")),
        ("listen", "${NGINX_PORT}", ("main", "http", "server")),
        ("location", "~ \\.php$", ("main", "http", "server")),
        ("return", "404", ("main", "http", "server", "location")),
    ]
