"""`mutbot doctor`'s diagnoses (pure): what the evidence of a failed smoke run says is wrong,
and what to change. The evidence (exit code, log lines, listening sockets, answers of likely
health paths) is gathered by the edges; nothing here does I/O."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from mutbot.logsays import hints, missing_module, unreachable
from mutbot.units import format_duration

# Paths tried when the health path does not answer 2xx, health-like ones first.
LIKELY_HEALTH = (
    *("/healthz", "/health", "/health/", "/healthcheck", "/api/health", "/ping", "/status"),
    *("/ready", "/readyz", "/livez", "/"),
)
DOCKER_DNS = "127.0.0.11"  # the engine's resolver listens inside every container on a network


@dataclass(frozen=True)
class Socket:
    host: str
    port: int

    @property
    def loopback_only(self) -> bool:
        return ipaddress.ip_address(self.host).is_loopback


@dataclass(frozen=True)
class Setup:
    """What the config asked for."""

    port: int = 8080
    health: str = "/healthz"
    memory: str = "256m"
    startup_timeout: float = 30.0
    services: tuple[str, ...] = ()
    tests_command: str | None = None


@dataclass(frozen=True)
class Evidence:
    """What the failed step left behind."""

    step: str  # config, sandbox, worktree, build, tests, start, health, load
    reason: str  # the error's one line
    exit_code: int | None = None  # the service's or the tests', when it exited
    oom: bool = False
    log: tuple[str, ...] = ()  # last lines of the service's (or the tests') output
    dependency: str | None = None  # the sandbox.services entry that failed (its log in `log`)
    sockets: tuple[Socket, ...] | None = None  # listening TCP sockets; None: unknown
    answers: tuple[tuple[str, str], ...] = ()  # (path, "200" | "404" | "refused" | ...)
    requests: int = 0  # load: requests made, and how many failed
    failed: int = 0
    errors: tuple[tuple[str, int], ...] = ()  # load: error message -> count


def listening(proc_net: str) -> tuple[Socket, ...]:
    """The listening sockets in the text of /proc/net/tcp and /proc/net/tcp6 (state 0A)."""
    found: list[Socket] = []
    for line in proc_net.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[3] != "0A":
            continue
        address, _, port = fields[1].partition(":")
        try:
            socket = Socket(_address(address), int(port, 16))
        except ValueError:
            continue
        if socket not in found:
            found.append(socket)
    return tuple(found)


def _address(hexed: str) -> str:
    """/proc/net writes addresses as 32-bit words in host (little-endian) order."""
    raw = bytes.fromhex(hexed)
    if len(raw) not in (4, 16):
        raise ValueError(hexed)
    ordered = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(ordered))
    address = ipaddress.IPv6Address(ordered)
    return str(address.ipv4_mapped or address)


def diagnose(setup: Setup, evidence: Evidence) -> list[str]:
    """The lines a user needs to fix the failed step, most specific first."""
    rule = {
        "config": lambda: _config(evidence),
        "sandbox": lambda: _sandbox(evidence),
        "build": lambda: _build(evidence),
        "tests": lambda: _tests(setup, evidence),
        "start": lambda: _start(setup, evidence),
        "health": lambda: _health(setup, evidence),
        "load": lambda: _load(setup, evidence),
    }.get(evidence.step)
    return rule() if rule else []


def _sandbox(e: Evidence) -> list[str]:
    if "local backend cannot run this config" in e.reason:
        return ["start Docker: this config needs it (docs/sandbox.md says what each backend runs)"]
    if "no Docker engine answers" in e.reason:
        return ["start Docker (or try the weaker local backend: --backend local, docs/sandbox.md)"]
    return []  # the local backend's own message says what it needs


def _config(e: Evidence) -> list[str]:
    if "not in the last commit" in e.reason or "git" in e.reason:
        return []  # the reason says what to do
    return ["`mutbot validate` checks the file; docs/config.md describes every key"]


# --- build ------------------------------------------------------------------------------------


def _build(e: Evidence) -> list[str]:
    text = e.reason
    if copied := re.search(r"COPY failed:.*\bstat (\S+?):", text):
        # the engine names a path in its own temporary folder: the file's name is what helps
        name = copied[1].rsplit("/", 1)[-1] if copied[1].startswith("/") else copied[1]
        return [
            f"the Dockerfile copies {name}, which is not in the build context: is it in the "
            "last commit, inside sandbox.context, and not excluded by .dockerignore?"
        ]
    if re.search(r"Cannot locate specified Dockerfile|Dockerfile: no such file", text):
        return ["the Dockerfile is not in the last commit at sandbox.dockerfile: commit it"]
    if target := re.search(r"target stage (\S+) could not be found", text):
        return [f"sandbox.build.target {target[1]} is not a stage of the Dockerfile"]
    if re.search(r"pull access denied|manifest for \S+ not found|manifest unknown", text):
        return ["a base image cannot be pulled: check its name and tag (and registry access)"]
    return ["the unchanged project does not build: see the build log"]


# --- tests ------------------------------------------------------------------------------------


def _tests(setup: Setup, e: Evidence) -> list[str]:
    if e.reason.startswith("timed out"):
        return ["the tests took longer than tests.timeout: raise it, or run fewer tests"]
    if "killed for memory" in e.reason:
        return [f"the tests were killed for memory (limit {setup.memory}): raise sandbox.memory"]
    if e.dependency:
        return _dependency_failed(e.dependency, e)
    runner = _runner(setup.tests_command or "")
    missing = missing_module(e.log)
    if runner and (missing == runner or (e.exit_code == 127 and _not_found(e.log, runner))):
        return [
            f"{runner} is not installed in the image (tests run inside it): install it in the "
            "Dockerfile, or set tests.command to a runner the image has "
            "(python -m unittest), or to null"
        ]
    if e.exit_code == 127:
        return [
            "the tests command is not found in the image (exit code 127): "
            "install its runner in the Dockerfile, or change tests.command"
        ]
    if runner == "pytest" and e.exit_code in (4, 5):
        return [
            "pytest found no tests in the image (exit code "
            f"{e.exit_code}): is the tests folder copied in (COPY, .dockerignore)?"
        ]
    hints = unreachable(setup.services, e.log, "the tests")
    if hints:
        return hints
    if missing:
        return [f"the tests need the Python module {missing}, which the image lacks"]
    return [
        "the tests fail on the unchanged project, so every candidate would fail too: fix them, "
        "or set tests.command to the tests that pass in the image"
    ]


def _runner(command: str) -> str | None:
    words = command.split()
    if len(words) >= 3 and re.fullmatch(r"python[\d.]*", words[0]) and words[1] == "-m":
        return words[2]
    return words[0] if words else None


def _not_found(lines: tuple[str, ...], word: str) -> bool:
    return any(word in line and "not found" in line for line in lines)


# --- start and health -------------------------------------------------------------------------


def _start(setup: Setup, e: Evidence) -> list[str]:
    """backend.start failed: the container (or a service it needs) did not start."""
    program = re.search(r'exec: "([^"]+)": (permission denied|executable file not found)', e.reason)
    if program and program[2] == "permission denied":
        name = program[1]
        return [
            f"{name} is not executable: `chmod +x` it and commit (git keeps the mode), or "
            f"`RUN chmod +x {name}` in the Dockerfile"
        ]
    if program:
        return [f"{program[1]} is not in the image: install it, or fix the command"]
    if "exec format error" in e.reason:
        return ["the command is no program this image can run: a script needs a #! line"]
    if e.dependency:
        return _dependency_failed(e.dependency, e)
    return _exited(setup, e) if e.exit_code is not None else []


def _health(setup: Setup, e: Evidence) -> list[str]:
    if e.oom:
        return [
            f"killed for memory (limit {setup.memory}); raise sandbox.memory, or find what "
            "the service allocates at start"
        ]
    if e.exit_code is not None:
        return _exited(setup, e)
    answers = dict(e.answers)
    own = answers.get(setup.health)
    if own and own.startswith("2"):
        waited = format_duration(setup.startup_timeout)
        return [
            f"{setup.health} answers {own} now, but not within {waited}: raise "
            "sandbox.startup_timeout"
        ]
    if own and own.isdigit():
        return _wrong_path(setup, e, own)
    return _no_answer(setup, e, own)


def _exited(setup: Setup, e: Evidence) -> list[str]:
    code = e.exit_code
    lines = [f"the service exited with code {code} during start-up; its last log lines are below"]
    if code == 0:
        lines.append(
            "exit code 0: its command ran and finished; a server must stay in the foreground "
            "(no daemon mode), and sandbox.command must start the server itself"
        )
    elif code == 137:
        lines.append("exit code 137: killed (SIGKILL), by the engine or a watchdog")
    elif code in (126, 127):
        lines.append(f"exit code {code}: its command is not found or not executable in the image")
    return lines + unreachable(setup.services, e.log, "the service") + hints(e.log)


def _wrong_path(setup: Setup, e: Evidence, own: str) -> list[str]:
    good = [path for path, answer in e.answers if answer.startswith("2") and path != setup.health]
    said = f"the health path {setup.health} answered {own}"
    if own.startswith("5"):
        return [
            f"{said}: the service runs but is unwell; its log says why",
            *unreachable(setup.services, e.log, "the service"),
            *hints(e.log),
        ]
    if good:
        return [
            f"{said}, {good[0]} answers {dict(e.answers)[good[0]]}: set sandbox.health: {good[0]}"
        ]
    tried = ", ".join(path for path, _ in e.answers if path != setup.health)
    return [
        f"{said}, and none of {tried} answers 2xx: set sandbox.health to a path that answers "
        "200 once the service is ready"
    ]


def _no_answer(setup: Setup, e: Evidence, own: str | None) -> list[str]:
    port = setup.port
    if e.sockets is None:
        return [
            f"nothing answered HTTP on port {port} ({own or 'no answer'}) (could not read which "
            "ports the service listens on)",
            *unreachable(setup.services, e.log, "the service"),
            *hints(e.log),
        ]
    sockets = [s for s in e.sockets if s.host != DOCKER_DNS]
    reachable = sorted({s.port for s in sockets if not s.loopback_only})
    hidden = [s for s in sockets if s.loopback_only and s.port not in reachable]
    if port in reachable:
        waited = format_duration(setup.startup_timeout)
        return [
            f"port {port} is open but {setup.health} gave no HTTP answer within {waited} "
            f"({own or 'no answer'}): the service is busy starting or stuck; raise "
            "sandbox.startup_timeout, or see its log",
            *unreachable(setup.services, e.log, "the service"),
        ]
    if reachable:
        listed = ", ".join(map(str, reachable))
        fix = f"set sandbox.port: {reachable[0]}" if len(reachable) == 1 else "set sandbox.port"
        return [f"nothing listens on {port}; the service listens on {listed}: {fix}"]
    if hidden:
        where = hidden[0]
        fix = "" if where.port == port else f", and set sandbox.port: {where.port}"
        return [
            f"the service listens on {where.host}:{where.port} only, which nothing outside its "
            f"container can reach: bind 0.0.0.0 (e.g. gunicorn --bind 0.0.0.0:{where.port}){fix}"
        ]
    return [
        f"nothing listens on any TCP port after {format_duration(setup.startup_timeout)}: the "
        "service is still starting (raise sandbox.startup_timeout) or waits for something",
        *unreachable(setup.services, e.log, "the service"),
        *hints(e.log),
    ]


# --- load -------------------------------------------------------------------------------------


def _load(setup: Setup, e: Evidence) -> list[str]:
    if e.oom:
        return [f"killed for memory under load (limit {setup.memory}): raise sandbox.memory"]
    if e.exit_code is not None:
        return [f"the service exited with code {e.exit_code} under load", *hints(e.log)]
    if "no concrete User classes" in e.reason:
        return ["the locustfile defines no user class with tasks (an HttpUser with @task)"]
    if e.reason.startswith("the load generator"):
        return ["the locustfile does not run: see the load log for its error"]
    if e.requests == 0:
        return ["the load made no request: do the locustfile's tasks call self.client?"]
    share = e.failed / e.requests
    top = "; ".join(f"{text} ×{count}" for text, count in e.errors[:3])
    return [
        f"{e.failed} of {e.requests} requests failed ({share:.0%}): {top}",
        "fix the requests the locustfile makes, or the service: every trial would measure errors",
    ]


def _dependency_failed(name: str, e: Evidence) -> list[str]:
    """A sandbox.services entry that exited, ran out of memory or never passed its check."""
    key = f"sandbox.services.{name}"
    text = "\n".join(e.log)
    if "was killed for memory" in e.reason:
        return [f"service {name} ran out of memory: raise {key}.memory (or remove the limit)"]
    if re.search(r"superuser password is not specified|POSTGRES_PASSWORD is not set", text):
        return [
            f"the postgres image of service {name} wants a password, and secrets never enter the "
            f"sandbox: add `POSTGRES_HOST_AUTH_METHOD: trust` to {key}.env (no password at all; "
            "point the service's database URL at it without one)"
        ]
    if re.search(r"MYSQL_ROOT_PASSWORD|MARIADB_ROOT_PASSWORD", text):
        return [
            f"the image of service {name} wants a root password: add "
            f"`MYSQL_ALLOW_EMPTY_PASSWORD: 'yes'` to {key}.env, or list the password variable "
            f"under {key}.throwaway_env (a random value per run)"
        ]
    if " not ready within " in e.reason:
        return [
            f"service {name} runs but never passed its health check: fix {key}.health (a "
            "command that exits 0 inside it once ready, or the port it listens on), or raise "
            f"{key}.health.timeout"
        ]
    if "exited" in e.reason:
        return [f"service {name} exited at start: its log (below) says why; check {key}"]
    if "no image" in e.reason:
        return [f"{key}.image cannot be pulled here: check its name and tag"]
    return [f"service {name} did not start: check {key}"]
