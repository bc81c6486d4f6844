"""Everything `mutbot init` guesses about a repository, each guess with its source (pure):
the service, its build, how it runs, the port, the health path, the services it needs, its
limits, the tests, the load and the targets. `render` writes it as .mutbot.yml."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from mutbot.compose_health import http_probe
from mutbot.discover import commands, resources, routes, service, testsuite
from mutbot.discover.dependencies import Dependency, dependencies
from mutbot.discover.dockerfiles import Command, Image, Words, read_image, repo_path
from mutbot.discover.kubernetes import Container
from mutbot.discover.model import Guess, Repo, Source, join
from mutbot.discover.process import Listen, Process
from mutbot.discover.routes import Route
from mutbot.discover.service import Candidate
from mutbot.discover.targets import protected, targets
from mutbot.envfilter import filter_env
from mutbot.errors import ConfigError
from mutbot.units import shown

DEFAULT_PORT = 8080
LOCUSTFILES = ("loadtest/locustfile.py", "locustfile.py", "mutbot_locustfile.py")


@dataclass
class Plan:
    service: Guess[str] | None  # None: nothing to build was found
    others: list[str] = field(default_factory=list)
    dockerfile: Guess[str] = field(
        default_factory=lambda: Guess(
            "Dockerfile", "no Dockerfile found", None, "mutbot builds and measures a Docker image"
        )
    )
    context: Guess[str] = field(default_factory=lambda: Guess(".", "the build context"))
    target: Guess[str] | None = None
    build_args: dict[str, Guess[str]] = field(default_factory=dict)
    command: Guess[Words] | None = None
    entrypoint: Guess[Words] | None = None
    env: dict[str, Guess[str]] = field(default_factory=dict)
    throwaway: list[Guess[str]] = field(default_factory=list)
    left_out: list[Guess[str]] = field(default_factory=list)  # names and why, never values
    port: Guess[int] = field(
        default_factory=lambda: Guess(
            DEFAULT_PORT, "nothing says which port", None, "the port the service listens on"
        )
    )
    health: Guess[str] = field(
        default_factory=lambda: Guess(
            "/", "no health check found", None, "a path that answers 2xx once the service is ready"
        )
    )
    services: list[Dependency] = field(default_factory=list)
    service_notes: list[Guess[str]] = field(default_factory=list)
    cpus: Guess[float] = field(default_factory=lambda: resources.DEFAULT_CPUS)
    memory: Guess[str] = field(default_factory=lambda: resources.DEFAULT_MEMORY)
    tests: Guess[str | None] = field(default_factory=lambda: Guess(None, "no test suite found"))
    locustfile: Guess[str] = field(
        default_factory=lambda: Guess(LOCUSTFILES[0], "written by mutbot init")
    )
    new_locustfile: bool = True
    load_routes: list[Route] = field(default_factory=list)
    targets: list[Guess[str]] = field(default_factory=list)
    protected: list[Guess[str]] = field(default_factory=list)


def discover(repo: Repo, wanted: str | None = None) -> Plan:
    """The plan for this repository; `wanted` names the service (ConfigError if none is)."""
    composed = service.compose_services(repo)
    pods = service.containers(repo)
    found = service.candidates(repo, composed, pods)
    chosen = service.choose(found, wanted)
    if chosen is None and wanted is not None:
        names = ", ".join(dict.fromkeys(c.name for c in found)) or "none found"
        raise ConfigError(f"--service {shown(wanted)}: no such service; the services: {names}")
    plan = Plan(None)
    image = read_image(repo, chosen.dockerfile, chosen.target) if chosen else None
    if chosen is not None and image is None:
        missing = f"it has no stage {chosen.target}" if chosen.target else "it cannot be read"
        plan.dockerfile = Guess(chosen.dockerfile, chosen.label, chosen.source, missing)
        plan.context = Guess(chosen.context, "its folder")
    if chosen is None or image is None:
        plan.targets = [Guess(plan.dockerfile.value, "the Dockerfile the sandbox builds")]
        _load(repo, plan, [])
        plan.protected = protected(repo, [t.value for t in plan.targets])
        return plan
    why = "chosen with --service" if wanted else chosen.why
    plan.service = Guess(chosen.label, why, chosen.source)
    pod = service.matching_container(chosen, pods)
    same = (chosen.dockerfile, chosen.context, chosen.target)
    plan.others = [  # not the same image seen from another file
        c.label
        for c in found
        if (c.dockerfile, c.context, c.target) != same and (pod is None or c.container is not pod)
    ]
    _build(plan, chosen)
    env = _run(plan, chosen)
    listen = _listen(repo, chosen, image, plan, env)
    declared = routes.declared(repo, chosen.context)
    _port(plan, chosen, image, pod, listen, env)
    _health(plan, chosen, image, pod, declared)
    if chosen.service is not None:
        plan.services, plan.service_notes = dependencies(chosen.service, composed)
    plan.cpus, plan.memory = resources.limits(chosen.service, pod)
    services = {d.name: d.image.value for d in plan.services}
    setting = testsuite.Setting(
        repo, image, chosen.context, services, {k: g.value for k, g in plan.env.items()}
    )
    plan.tests = testsuite.tests(setting)
    _load(repo, plan, routes.loadable(declared))
    plan.targets = targets(repo, image, chosen.context, listen.read if listen else ())
    plan.protected = protected(repo, [t.value for t in plan.targets])
    return plan


def _build(plan: Plan, chosen: Candidate) -> None:
    build = chosen.service.build if chosen.service else None
    if build is None:
        plan.dockerfile = Guess(chosen.dockerfile, "the Dockerfile")
        plan.context = Guess(chosen.context, "its folder")
        return
    at = build.sources
    plan.dockerfile = Guess(
        chosen.dockerfile,
        "build.dockerfile" if "dockerfile" in at else "build:",
        at.get("dockerfile", build.source),
    )
    plan.context = Guess(
        chosen.context,
        "build.context" if "context" in at else "build:",
        at.get("context", build.source),
    )
    if chosen.target:
        plan.target = Guess(chosen.target, "build.target", at.get("target", build.source))
    kept = filter_env(build.args)
    for name, value in kept.env.items():
        plan.build_args[name] = Guess(value, "build.args", at.get(name, build.source))
    for dropped in kept.dropped:
        plan.left_out.append(
            Guess(
                dropped.name,
                f"build arg {dropped.name} left out: {dropped.why}",
                at.get(dropped.name, build.source),
            )
        )


def _run(plan: Plan, chosen: Candidate) -> dict[str, tuple[str, Source | None]]:
    """Command, entrypoint and environment from compose or Kubernetes; the environment the
    service's process sees (the sandbox's over the image's) for reading its command."""
    if chosen.service is not None:
        spec = chosen.service
        env, sources, entry, cmd = spec.environment, spec.env_sources, spec.entrypoint, spec.command
        for file in spec.env_files:
            if file.read is None:
                why, fix = "not read", "give what the service needs in sandbox.env"
            elif file.read != file.path:
                why, fix = f"its sample {file.read} read", "check the values taken from it"
            else:
                continue
            said = f"env_file {file.path} is not in the repository: {why}"
            plan.left_out.append(Guess(file.path, said, file.named, fix))
    elif chosen.container is not None:
        pod = chosen.container
        env, sources, entry, cmd = pod.env, pod.env_sources, pod.command, pod.args
    else:
        return {}
    kept = filter_env(env)
    gone = {d.name for d in kept.dropped}
    secrets = [  # values that must not reach the config through a command
        v for n, v in env.items() if v and len(v) >= 4 and n in gone and v not in kept.env.values()
    ]
    for name, value in kept.env.items():
        plan.env[name] = Guess(value, "environment", sources.get(name))
    for note in kept.notes:
        plan.left_out.append(Guess(note.split(":")[0], note, sources.get(note.split(":")[0])))
    for dropped in kept.dropped:
        where = sources.get(dropped.name)
        if dropped.why.startswith("its name"):
            plan.throwaway.append(
                Guess(dropped.name, f"{dropped.why}: a random value for each run", where)
            )
        else:
            plan.left_out.append(
                Guess(
                    dropped.name,
                    f"{dropped.name} left out: {dropped.why}",
                    where,
                    "the service may need it; set a literal value in sandbox.env",
                )
            )
    for key, found in (("entrypoint", entry), ("command", cmd)):
        if found is None:
            continue
        if any(s in " ".join(found.argv()) for s in secrets):
            plan.left_out.append(
                Guess(
                    key,
                    f"{key} left out: it holds a secret's value",
                    found.source,
                    f"write the {key} without it",
                )
            )
            continue
        words = _resolved(found.words)
        doubt = (
            None
            if words is not None
            else "it uses ${VAR} with no default, which the sandbox has no value for"
        )
        guess = Guess(words if words is not None else found.words, key, found.source, doubt)
        setattr(plan, key, guess)
    return {n: (g.value, g.source) for n, g in plan.env.items()}


def _resolved(words: Words) -> Words | None:
    """The command as the sandbox gets it: `${VAR:-default}` by its default (mutbot.envfilter's
    rule); None when a variable has no default."""
    items = [words] if isinstance(words, str) else words
    kept = filter_env({str(i): w for i, w in enumerate(items)})
    if kept.dropped:
        return None
    done = [kept.env[str(i)] for i in range(len(items))]
    return done[0] if isinstance(words, str) else done


def _listen(
    repo: Repo,
    chosen: Candidate,
    image: Image,
    plan: Plan,
    env: dict[str, tuple[str, Source | None]],
) -> Listen | None:
    entry = (
        _words(plan.entrypoint, image.entrypoint) if plan.entrypoint or image.entrypoint else None
    )
    cmd_override = plan.command is not None or plan.entrypoint is not None
    cmd = _words(plan.command, image.cmd if not cmd_override else None)
    where = plan.command or plan.entrypoint or image.cmd or image.entrypoint
    source = (
        where.source if isinstance(where, Command | Guess) and where.source else Source(image.path)
    )

    def locate(name: str) -> str | None:
        found = repo_path(repo, image, chosen.context, name)
        fallback = join(chosen.context, name) if not name.startswith("/") else None
        return found or (fallback if fallback in repo.fileset else None)

    proc = Process(
        repo, {**image.env, **env}, locate, (cmd, source) if cmd else None, chosen.context
    )
    argv = [*(entry or []), *(cmd or [])] if entry else (cmd or [])
    return commands.listen(proc, argv, source) if argv else None


def _words(guess: Guess[Words] | None, command: Command | None) -> list[str] | None:
    words = guess.value if guess is not None else command.words if command is not None else None
    if words is None:
        return None
    return ["/bin/sh", "-c", words] if isinstance(words, str) else list(words)


def _port(
    plan: Plan,
    chosen: Candidate,
    image: Image,
    pod: Container | None,
    listen: Listen | None,
    env: dict[str, tuple[str, Source | None]],
) -> None:
    declared = [
        *(chosen.service.ports if chosen.service else ()),
        *(pod.ports if pod else ()),
        *image.ports,
    ]
    heard = listen.port if listen else None
    if heard is not None and heard.source is not None:
        others = sorted({d.value for d in declared if d.value != heard.value})
        also = f" (also declared: {', '.join(map(str, others))})" if others else ""
        plan.port = Guess(
            heard.value, heard.why + also, heard.source, listen.doubt if listen else None
        )
    elif declared:
        first = declared[0]
        doubt = listen.doubt if listen else None
        if heard is not None and heard.value != first.value:
            doubt = f"{heard.why} says {heard.value}"
        plan.port = Guess(first.value, first.why, first.source, doubt)
    elif heard is not None:
        plan.port = Guess(heard.value, heard.why, None, listen.doubt if listen else None)
    elif "PORT" in env and env["PORT"][0].isdigit():
        plan.port = Guess(
            int(env["PORT"][0]),
            f"PORT={env['PORT'][0]}",
            env["PORT"][1],
            "the service's own settings did not say",
        )
    elif listen is not None and listen.doubt:
        plan.port = Guess(DEFAULT_PORT, listen.doubt, None, "the port the service listens on")


def _health(
    plan: Plan, chosen: Candidate, image: Image, pod: Container | None, declared: list[Route]
) -> None:
    checks = [chosen.service.healthcheck if chosen.service else None, image.healthcheck]
    for check in checks:
        if check is None:
            continue
        test = ["CMD-SHELL", check.words] if isinstance(check.words, str) else ["CMD", *check.words]
        probe = http_probe({"test": test}, lambda text: text.replace("$$", "$"))
        if probe is not None:
            doubt = (
                None
                if probe.port == plan.port.value
                else f"it asks port {probe.port}, not {plan.port.value}"
            )
            what = "HEALTHCHECK" if check is image.healthcheck else "healthcheck"
            plan.health = Guess(probe.path, f"{what} asks {probe.path}", check.source, doubt)
            return
    for kube in pod.probes if pod else ():
        path = "/" + kube.path.lstrip("/")
        asks = pod.probe_port(kube) if pod else None
        doubt = (
            f"it asks port {asks}, not {plan.port.value}"
            if asks not in (None, plan.port.value)
            else None
        )
        plan.health = Guess(path, f"{kube.kind} httpGet.path {kube.path}", kube.source, doubt)
        return
    if (route := routes.health_route(declared)) is not None:
        plan.health = Guess(route.path, route.why, route.source)
        return
    root = next((r for r in routes.loadable(declared) if r.path == "/"), None)
    if root is not None:
        plan.health = Guess("/", f"no health check; {root.why} answers", root.source)


def _load(repo: Repo, plan: Plan, loadable: list[Route]) -> None:
    existing = sorted(
        (
            f
            for f in repo.files
            if posixpath.basename(f).startswith("locustfile") and f.endswith(".py")
        ),
        key=lambda f: (f.count("/"), f),
    )
    if existing:
        plan.locustfile = Guess(existing[0], "the existing locustfile")
        plan.new_locustfile = False
        return
    free = next(
        (
            p
            for p in LOCUSTFILES
            if p not in repo.fileset
            and not any(f.startswith(p + "/") or p.startswith(f + "/") for f in repo.files)
        ),
        LOCUSTFILES[-1],
    )
    plan.load_routes = loadable
    count = len({r.path for r in loadable} | {plan.health.value})
    plan.locustfile = Guess(
        free,
        f"written by mutbot init: GET over {count} path{'s' if count != 1 else ''} it read",
        None,
        "a starting point: make it the requests production serves most",
    )
