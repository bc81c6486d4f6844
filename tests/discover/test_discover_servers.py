"""Where a command's server listens: flags, settings files, environment, wrappers, scripts."""

from __future__ import annotations

import pytest

from mutbot.discover.commands import listen
from mutbot.discover.model import Repo, Source
from mutbot.discover.process import Listen, Process, split

HERE = Source("Dockerfile", 9)


def run(
    command: str | list[str],
    files: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    cmd: list[str] | None = None,
) -> Listen | None:
    """What `command` (a shell string or exec words) listens on, files at the image's WORKDIR
    (the repository root), `env` from the image."""
    files = files or {}
    repo = Repo(files, files.get)
    known = {k: (v, Source("Dockerfile", 3)) for k, v in (env or {}).items()}

    def locate(name: str) -> str | None:
        name = name.removeprefix("/app/").removeprefix("./")
        return name if name in files else None

    proc = Process(repo, known, locate, (cmd, Source("Dockerfile", 10)) if cmd else None)
    argv = split(command) if isinstance(command, str) else command
    return listen(proc, argv, HERE)


def port(found: Listen | None) -> int | None:
    return found.port.value if found and found.port else None


@pytest.mark.parametrize(
    ("command", "expected", "why"),
    [
        ("gunicorn --bind 0.0.0.0:5000 app:app", 5000, "gunicorn --bind 0.0.0.0:5000"),
        ("gunicorn -b :8001 app:app", 8001, "gunicorn -b :8001"),
        ("gunicorn --bind=0.0.0.0:7000 -w 4 app:app", 7000, "gunicorn --bind 0.0.0.0:7000"),
        ("gunicorn -b0.0.0.0:7100 app:app", 7100, "gunicorn -b 0.0.0.0:7100"),
        ("python -m gunicorn -b :5001 app:app", 5001, "gunicorn -b :5001"),
        ("exec tini -- gunicorn -b :5002 app:app", 5002, "gunicorn -b :5002"),
        ("uvicorn app.main:app --host 0.0.0.0 --port 8080", 8080, "uvicorn --port 8080"),
        ("hypercorn -b 0.0.0.0:8443 app:app", 8443, "hypercorn -b 0.0.0.0:8443"),
        ("daphne -b 0.0.0.0 -p 8002 proj.asgi:application", 8002, "daphne -p 8002"),
        ("daphne -e tcp:port=8003:interface=0.0.0.0 p.asgi:a", 8003, "daphne -e"),
        ("uwsgi --http :9000 --module app:app", 9000, "uwsgi --http :9000"),
        ("waitress-serve --listen=*:6543 app:app", 6543, "waitress-serve --listen *:6543"),
        ("flask --app app run --host 0.0.0.0 --port 5050", 5050, "flask run --port 5050"),
        ("python manage.py runserver 0.0.0.0:8000", 8000, "manage.py runserver 0.0.0.0:8000"),
        ("/usr/local/bin/ledger -addr :9090", 9090, "ledger -addr :9090"),
        ("./server --port=7070", 7070, "server --port 7070"),
        ("poetry run uvicorn app:app --host 0.0.0.0 --port 8100", 8100, "uvicorn --port 8100"),
        ("gosu app gunicorn -b :8200 app:app", 8200, "gunicorn -b :8200"),
    ],
)
def test_flags(command: str, expected: int, why: str) -> None:
    found = run(command)
    assert found is not None and found.port is not None
    assert (found.port.value, found.port.source) == (expected, HERE)
    assert found.port.why.startswith(why)
    assert found.doubt is None


def test_a_variable_with_its_default_and_from_the_environment() -> None:
    found = run('gunicorn --bind "0.0.0.0:${PORT:-5000}" app:app')
    assert found is not None and found.port is not None
    assert (found.port.value, found.port.why) == (5000, "gunicorn --bind 0.0.0.0:${PORT:-5000}")
    found = run('gunicorn --bind "0.0.0.0:${PORT:-5000}" app:app', env={"PORT": "8000"})
    assert found is not None and found.port is not None
    assert found.port.value == 8000
    assert found.port.why.endswith("with PORT=8000 from Dockerfile:3")
    assert run("gunicorn --bind 0.0.0.0:$PORT app:app") is not None  # no value: the default
    assert port(run("gunicorn --bind 0.0.0.0:$PORT app:app")) == 8000


@pytest.mark.parametrize(
    ("command", "expected", "doubt"),
    [
        ("gunicorn app:app", 8000, "gunicorn binds 127.0.0.1"),
        ("uvicorn app:app", 8000, "uvicorn binds 127.0.0.1"),
        ("uvicorn app:app --port 9000", 9000, "uvicorn binds 127.0.0.1"),
        ("flask run", 5000, "flask run binds 127.0.0.1"),
        ("python manage.py runserver", 8000, "Django's runserver binds 127.0.0.1"),
        ("hypercorn app:app", 8000, "hypercorn binds 127.0.0.1"),
        ("uvicorn app:app --uds /tmp/app.sock", None, "uvicorn listens on a socket file"),
        ("gunicorn -b unix:/run/app.sock app:app", None, "gunicorn listens on a socket file"),
        ("uwsgi --socket :3031 --module app", 3031, "uwsgi --socket speaks uwsgi, not HTTP"),
    ],
)
def test_defaults_and_binds_nothing_reaches(command: str, expected: int, doubt: str) -> None:
    """uvicorn, gunicorn (without PORT), flask run and runserver listen on the loopback by
    default: a container's port that nothing outside it reaches."""
    found = run(command)
    assert found is not None
    assert port(found) == expected
    assert found.doubt is not None and found.doubt.startswith(doubt)


def test_gunicorn_with_port_in_the_environment_binds_every_interface() -> None:
    found = run("gunicorn app:app", env={"PORT": "8080"})
    assert found is not None and found.port is not None
    assert (found.port.value, found.port.why, found.doubt) == (
        8080,
        "gunicorn reads PORT=8080",
        None,
    )
    assert found.port.source == Source("Dockerfile", 3)


def test_gunicorn_settings() -> None:
    conf = "import os\nworkers = 2\nbind = f\"0.0.0.0:{os.environ.get('PORT', '8500')}\"\n"
    found = run("gunicorn app:app", {"gunicorn.conf.py": conf})
    assert found is not None and found.port is not None
    assert (found.port.value, found.port.source) == (8500, Source("gunicorn.conf.py", 3))
    assert found.read == ("gunicorn.conf.py",)
    found = run("gunicorn -c conf/gunicorn.py app:app", {"conf/gunicorn.py": "bind = [':8600']\n"})
    assert port(found) == 8600
    found = run("gunicorn app:app", env={"GUNICORN_CMD_ARGS": "--bind=0.0.0.0:8700 --workers=3"})
    assert found is not None and found.port is not None
    assert (found.port.value, found.port.source) == (8700, Source("Dockerfile", 3))


def test_uwsgi_ini() -> None:
    ini = "[uwsgi]\nmodule = app:app\nhttp = 0.0.0.0:8800\nprocesses = 1\n"
    found = run("uwsgi --ini uwsgi.ini", {"uwsgi.ini": ini})
    assert found is not None and found.port is not None
    assert (found.port.value, found.port.source) == (8800, Source("uwsgi.ini", 3))
    found = run("uwsgi app.ini", {"app.ini": "[uwsgi]\nsocket = :3031\n"})
    assert found is not None and found.doubt == "uwsgi `socket` speaks uwsgi, not HTTP"


def test_an_entrypoint_script_and_exec_of_its_arguments() -> None:
    script = '#!/bin/sh\nset -e\npython manage.py migrate --noinput\nexec "$@"\n'
    found = run(
        ["/app/entrypoint.sh"],
        {"entrypoint.sh": script},
        cmd=["gunicorn", "proj.wsgi", "--bind", "0.0.0.0:8000"],
    )
    assert found is not None and found.port is not None
    assert (found.port.value, found.port.source) == (8000, Source("Dockerfile", 10))
    assert found.read == ("entrypoint.sh",)


def test_a_script_that_starts_the_server_and_its_variables() -> None:
    script = "#!/bin/bash\nPORT=${PORT:-5000}\nexport W=2\nexec gunicorn -b 0.0.0.0:$PORT app:app\n"
    found = run("./boot.sh", {"boot.sh": script})
    assert found is not None and found.port is not None
    assert (found.port.value, found.port.source) == (5000, Source("boot.sh", 4))
    assert found.port.why == "gunicorn -b 0.0.0.0:$PORT with PORT=5000 from boot.sh:2"
    found = run(["sh", "-c", "python manage.py migrate && gunicorn -b :8001 p.wsgi"])
    assert port(found) == 8001
    found = run("./start.sh", {"start.sh": "#!/bin/sh\necho hello\n"})
    assert found is not None and found.port is None
    assert found.doubt == "start.sh starts no server mutbot knows"


def test_a_python_module_that_starts_its_own_server() -> None:
    app = (
        "import os\nfrom http.server import HTTPServer\n"
        "PORT = int(os.environ.get('PORT', '8080'))\n"
        "def main():\n    HTTPServer(('0.0.0.0', PORT), Handler).serve_forever()\n"
    )
    found = run("python app.py", {"app.py": app})
    assert found is not None and found.port is not None
    assert (found.port.value, found.port.source) == (8080, Source("app.py", 5))
    found = run("python app.py", {"app.py": app}, env={"PORT": "9000"})
    assert port(found) == 9000
    flask = "app = Flask(__name__)\nif __name__:\n    app.run(host='127.0.0.1', port=5001)\n"
    found = run("python -u app.py", {"app.py": flask})
    assert port(found) == 5001 and found is not None and found.doubt is not None


def test_node_pm2_and_npm() -> None:
    server = (
        "const app = require('./app');\nconst PORT = process.env.PORT || 3000;\napp.listen(PORT);\n"
    )
    files = {
        "server.js": server,
        "package.json": '{"main": "server.js", "scripts": {"start": "node server.js"}}',
    }
    assert port(run("node server.js", files)) == 3000
    assert port(run("node server.js", files, env={"PORT": "4000"})) == 4000
    assert port(run("npm start", files)) == 3000
    assert port(run("node .", files)) == 3000
    ecosystem = (
        "module.exports = {apps: [{script: 'server.js',\n  env: {\n    PORT: 3100,\n  }}]};\n"
    )
    found = run("pm2-runtime ecosystem.config.js", {**files, "ecosystem.config.js": ecosystem})
    assert found is not None and found.port is not None
    assert (found.port.value, found.port.source) == (3100, Source("ecosystem.config.js", 3))
    assert found.read == ("ecosystem.config.js",)
    assert port(run(["node", "index.js"], {"index.js": "server.listen(8123)\n"})) == 8123


def test_nginx_and_go() -> None:
    conf = "server {\n    listen 8088;\n    location / { proxy_pass http://app; }\n}\n"
    found = run(["nginx", "-g", "daemon off;"], {"nginx/default.conf": conf})
    assert found is not None and found.port is not None
    assert (found.port.value, found.port.source) == (8088, Source("nginx/default.conf", 2))
    main = 'package main\nfunc main() {\n\taddr := flag.String("addr", ":8181", "address")\n}\n'
    found = run(["/usr/local/bin/svc"], {"main.go": main})
    assert found is not None and found.port is not None
    assert (found.port.value, found.port.source) == (8181, Source("main.go", 3))
    plain = 'package main\nfunc main() {\n\thttp.ListenAndServe(":8282", nil)\n}\n'
    assert port(run(["/svc"], {"main.go": plain})) == 8282


@pytest.mark.parametrize(
    "command",
    ["", "sh", "sh -c", "exec", "python", "python -m", "npm start", "./missing.sh", "node",
     "pm2-runtime", "uwsgi", "$(weird) 'unbalanced", "flask shell", "tini --"],
)  # fmt: skip
def test_what_says_nothing_gives_no_port(command: str) -> None:
    found = run(command)
    assert port(found) is None


def test_scripts_that_call_themselves_end() -> None:
    script = "#!/bin/sh\n./loop.sh\n"
    assert port(run("./loop.sh", {"loop.sh": script})) is None
