"""`mutbot doctor`: a smoke run of the baseline exactly as a run does it — the config, a
worktree of the last commit, build, tests, start with the limits and the services, health, ten
seconds of load — printed as a checklist with each step's time, and when a step fails, what the
evidence says to change (diagnose.py). Everything made is removed as a run removes it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mutbot import backends, probe, reaper, statedir
from mutbot.backends.base import Artifact, Instance
from mutbot.calibrate import calibrated_plan, fixed_plan, ramp_plan, read_ramp
from mutbot.config import Config
from mutbot.diagnose import LIKELY_HEALTH, Evidence, Setup, diagnose
from mutbot.errors import (
    BaselineError,
    ConfigError,
    Interrupted,
    LoadError,
    MutbotError,
    SandboxError,
    StageFailure,
)
from mutbot.load import close as close_load
from mutbot.load import drive
from mutbot.metrics import load_metrics
from mutbot.progress import plain
from mutbot.run.context import Context, setup
from mutbot.run.options import RunOptions, core_list, load_inputs, new_run_id
from mutbot.run.stages import prepare
from mutbot.run.subject import Subject
from mutbot.run.subject import baseline as baseline_subject
from mutbot.trial import wait_healthy
from mutbot.units import format_duration, format_size
from mutbot.validate import committed
from mutbot.worktree import Workspace

LOAD_SECONDS = 10.0
MAX_ERROR_SHARE = 0.01  # a healthy baseline answers (nearly) every request
STEPS = ("config", "sandbox", "worktree", "build", "tests", "start", "health", "load")
SHOWN = {"apply": "worktree"}  # the pipeline's stage names as the checklist says them


class _Stop(Exception):
    """A step failed: what it left behind, and the exit code of its error class."""

    def __init__(self, evidence: Evidence, code: int, log: Path | None = None) -> None:
        super().__init__(evidence.reason)
        self.evidence = evidence
        self.code = code
        self.log = log


@dataclass
class _Checklist:
    say: Callable[[str], None]
    done: int = 0  # steps passed or failed, in STEPS order
    started: float = field(default_factory=time.monotonic)

    def line(self, name: str, ok: bool, seconds: float, detail: str = "") -> None:
        mark = "✓" if ok else "✗"
        first, *more = detail.splitlines() or [""]
        self.say(plain(f"{mark} {name:<9}{seconds:6.1f}s  {first}".rstrip()))
        for line in more:  # a config error names each problem on its own line
            self.say(plain(f"  {line}"))
        self.done = max(self.done, STEPS.index(name) + 1)

    @contextmanager
    def step(self, name: str, code: int) -> Iterator[list[str]]:
        """Times a step; a MutbotError or StageFailure becomes a failed line and a _Stop. The
        caller may put a detail for the passed line in the list it gets."""
        started, detail = time.monotonic(), list[str]()
        try:
            yield detail
        except _Stop as stop:
            self.line(name, False, time.monotonic() - started, stop.evidence.reason)
            raise
        except (MutbotError, StageFailure) as exc:
            if isinstance(exc, Interrupted):
                raise
            reason = exc.reason if isinstance(exc, StageFailure) else str(exc)
            code = exc.exit_code if isinstance(exc, MutbotError) else code
            self.line(name, False, time.monotonic() - started, reason)
            raise _Stop(Evidence(name, reason), code) from None
        self.line(name, True, time.monotonic() - started, " ".join(detail))


def doctor(options: RunOptions, say: Callable[[str], None]) -> int:
    """Run the checklist; print it and, on failure, the diagnosis. Returns the exit code: 0
    when every step passed, else that of the failing step's error class."""
    out = _Checklist(say)
    setup = Setup()
    say(plain(f"mutbot doctor: {options.project.resolve()}"))
    notes: list[str] = []  # what a compose file's sandbox left out, and why
    try:
        with ExitStack() as resources:  # removes what the steps made, whatever happens
            with out.step("config", ConfigError.exit_code) as detail:
                config, config_path = load_inputs(options, notes.append)
                setup = _setup(config)
                workspace = Workspace(options.project)
                resources.callback(workspace.close)
                committed(workspace, config.load.locustfile)
                detail.append(f"{config_path.name} valid")
            for note in notes:
                say(plain(f"  note: {note}"))
            if workspace.uncommitted():
                say(
                    "  note: the project has uncommitted changes; doctor, like a run, builds "
                    "the last commit (the config is read from the folder)"
                )
            _check(options, (config, config_path), workspace, resources, out)
    except _Stop as stop:
        _diagnose(out, setup, stop)
        return stop.code
    took = format_duration(round(time.monotonic() - out.started))
    say(f"all green in {took}: `mutbot run` can measure candidates against this baseline")
    return 0


def _check(
    options: RunOptions,
    inputs: tuple[Config, Path],
    workspace: Workspace,
    resources: ExitStack,
    out: _Checklist,
) -> None:
    config, config_path = inputs
    run_id = new_run_id()
    cores = backends.plan_cores(config.sandbox.cpus, core_list())
    with out.step("sandbox", SandboxError.exit_code) as detail:
        run_dir = _run_dir(options.project)
        name = backends.choose(options.backend)
        fallback = name == "local" and not options.backend  # as a run falls back
        removed = reaper.reap(with_docker=name == "docker")
        try:
            backend = backends.create(name, config.sandbox, run_id, cores)
        except ConfigError as exc:
            if not fallback:
                raise
            raise SandboxError(
                f"no Docker engine answers, and the local backend cannot run this config: {exc}"
            ) from None
        resources.callback(backend.close)
        resources.callback(close_load)  # the load generator the load step started
        if fallback:
            detail.append("local: NO Docker engine answers (weaker isolation, docs/sandbox.md)")
        else:
            detail.append(name)
        if removed:
            detail.append(f"(removed {len(removed)} leftovers of killed runs)")
    reporter = _Reporter(out, config.tests.command)
    where = (run_id, run_dir)
    ctx = setup(options, config, config_path, where, workspace, backend, reporter, cores.load)
    baseline = baseline_subject()
    artifact = _prepare(ctx, baseline, out)
    _serve(ctx, artifact, baseline, out)


class _Reporter:
    """The pipeline's stages as checklist lines, each printed when it ends."""

    def __init__(self, out: _Checklist, tests: str | None) -> None:
        self.out = out
        self.tests = tests
        self.subject: Subject | None = None
        self.printed = 0

    def stage(self, slug: str, text: str) -> None:
        self.flush()

    def note(self, text: str) -> None:
        self.out.say(plain(f"  {text}"))

    def flush(self) -> None:
        stages = self.subject.stages if self.subject else []
        for record in stages[self.printed :]:
            if record.ok:
                self.out.line(
                    SHOWN.get(record.name, record.name),
                    True,
                    record.seconds,
                    self._detail(record.name),
                )
        self.printed = len(stages)

    def _detail(self, stage: str) -> str:
        artifact = self.subject.artifact if self.subject else None
        if stage == "build" and artifact and artifact.image_size_mb:
            return f"image {artifact.image_size_mb:.0f} MB"
        if stage == "tests":
            return self.tests or "none (tests.command is not set)"
        return ""


def _prepare(ctx: Context, baseline: Subject, out: _Checklist) -> Artifact:
    reporter = ctx.reporter
    assert isinstance(reporter, _Reporter)
    reporter.subject = baseline
    try:
        prepare(ctx, baseline)
    except MutbotError as exc:  # a worktree that cannot be made
        if isinstance(exc, Interrupted):
            raise
        reporter.flush()
        out.line("worktree", False, 0.0, str(exc))
        raise _Stop(Evidence("worktree", str(exc)), exc.exit_code) from None
    reporter.flush()
    failure = baseline.failure
    if failure is None:
        assert baseline.artifact is not None
        return baseline.artifact
    name = SHOWN.get(failure.stage, failure.stage)
    seconds = baseline.stages[-1].seconds if baseline.stages else 0.0
    log = ctx.run_dir / "logs" / "baseline" / f"{failure.stage}.log"
    out.line(name, False, seconds, failure.reason)
    if dependency := _failed_dependency(failure):
        raise _Stop(dependency, BaselineError.exit_code)
    lines = probe.tail(log)
    evidence = Evidence(name, failure.reason, exit_code=_exit_code(failure.reason), log=lines)
    raise _Stop(evidence, BaselineError.exit_code, log if lines else None)


def _failed_dependency(failure: StageFailure) -> Evidence | None:
    """A sandbox.services entry that did not get ready: the backend names it and keeps its log
    (docker_services.ServiceNotReady)."""
    name = getattr(failure, "service", None)
    if not isinstance(name, str):
        return None
    text = str(getattr(failure, "log_tail", ""))
    lines = tuple(row.rstrip()[:300] for row in text.splitlines() if row.strip())
    step = SHOWN.get(failure.stage, failure.stage)
    return Evidence(step, failure.reason, log=lines[-probe.LOG_LINES :], dependency=name)


def _serve(ctx: Context, artifact: Artifact, baseline: Subject, out: _Checklist) -> None:
    """Start, wait for health, drive ten seconds of load: one trial, as a run makes it."""
    config, logs = ctx.config, ctx.run_dir / "logs"
    log = logs / "baseline.service.log"
    with ExitStack() as running:
        with out.step("start", BaselineError.exit_code):
            try:
                instance = ctx.backend.start(artifact, log)
            except StageFailure as failure:
                dependency = _failed_dependency(failure)
                if dependency is None:
                    raise
                raise _Stop(dependency, BaselineError.exit_code) from None
            running.callback(instance.stop)
        health = config.sandbox.health
        with out.step("health", BaselineError.exit_code) as detail:
            try:
                seconds = wait_healthy(instance, health, config.sandbox.startup_timeout)
            except StageFailure as failure:
                raise _unhealthy(instance, failure, log, config) from None
            detail.append(f"{health} answered 2xx after {seconds:.1f}s")
        assert baseline.project_dir is not None
        locustfile = baseline.project_dir / config.load.locustfile
        with out.step("load", LoadError.exit_code) as detail:
            detail.append(_load(ctx, instance, locustfile, log))


def _unhealthy(instance: Instance, failure: StageFailure, log: Path, config: Config) -> _Stop:
    """Evidence of a service that never answered its health path, read before it goes."""
    code, oom = probe.stopped(instance)
    answers: tuple[tuple[str, str], ...] = ()
    sockets = None
    if code is None and not oom:
        url = instance.url
        answers = probe.answers(url, (config.sandbox.health, *LIKELY_HEALTH))
        sockets = probe.sockets(instance)
    instance.stop()  # saves its log
    evidence = Evidence(
        "health",
        failure.reason,
        exit_code=code,
        oom=oom,
        log=probe.tail(log),
        sockets=sockets,
        answers=answers,
    )
    return _Stop(evidence, BaselineError.exit_code, log)


def _load(ctx: Context, instance: Instance, locustfile: Path, log: Path) -> str:
    config = ctx.config
    primary = config.objective.primary
    fixed = fixed_plan(config.load, primary)
    # The config's users or rate for ten seconds; or the ramp a run would calibrate with.
    load = ramp_plan() if fixed is None else fixed.lasting(LOAD_SECONDS)
    raw = ctx.run_dir / "raw" / "baseline.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    locust_log = ctx.run_dir / "logs" / "baseline.locust.log"
    try:
        run = drive(instance.url, locustfile, load, raw, locust_log, ctx.plan.load_cores)
    except LoadError as exc:
        evidence = Evidence("load", str(exc), log=probe.tail(locust_log))
        raise _Stop(evidence, exc.exit_code, locust_log) from None
    failure = instance.failure()  # the service, or a service it needs, stopped under load
    if failure:
        code, oom = probe.stopped(instance)
        instance.stop()  # saves its log
        evidence = Evidence(
            "load", f"{failure} under load", exit_code=code, oom=oom, log=probe.tail(log)
        )
        raise _Stop(evidence, BaselineError.exit_code, log)
    metrics = load_metrics(run.raw)
    requests = int(metrics["requests"])
    failed = round(requests * metrics["error_rate"])
    if requests == 0 or failed > MAX_ERROR_SHARE * requests:
        errors = tuple(sorted(run.errors.items(), key=lambda item: -item[1]))
        reason = f"{failed} of {requests} requests failed" if requests else "no request was made"
        evidence = Evidence("load", reason, requests=requests, failed=failed, errors=errors)
        raise _Stop(evidence, LoadError.exit_code, locust_log)
    said = (
        f"{requests} requests in {load.duration:g}s, p95 {metrics['latency_p95_ms']:.0f} ms, "
        f"{failed} failed"
    )
    if fixed is not None:
        return said
    plan = calibrated_plan(config.load, primary, read_ramp(run), load.duration)
    return f"{said}; {plan.chosen}"


def _diagnose(out: _Checklist, setup: Setup, stop: _Stop) -> None:
    for name in STEPS[out.done :]:
        out.say(f"· {name:<9}     -  not run")
    out.say("")
    for line in diagnose(setup, stop.evidence):
        out.say(plain(f"→ {line}"))
    if stop.evidence.log:
        if stop.evidence.dependency:
            where = f"the log of service {stop.evidence.dependency}"
        else:
            where = stop.log.as_posix() if stop.log else "its log"
        out.say(plain(f"last lines of {where}:"))
        for line in stop.evidence.log:
            out.say(plain(f"  | {line}"))


def _setup(config: Config) -> Setup:
    sandbox = config.sandbox
    return Setup(
        port=sandbox.port,
        health=sandbox.health,
        memory=format_size(sandbox.memory),
        startup_timeout=sandbox.startup_timeout,
        services=tuple(sandbox.services),
        tests_command=config.tests.command,
    )


def _exit_code(reason: str) -> int | None:
    marker = "exit code "
    if marker not in reason:
        return None
    digits = reason.split(marker, 1)[1].split(")")[0]
    return int(digits) if digits.lstrip("-").isdigit() else None


def _run_dir(project: Path) -> Path:
    """The last doctor's logs, in .mutbot/doctor (kept out of `git status`, as a run's are)."""
    run_dir = (project / statedir.NAME / "doctor").resolve()
    shutil.rmtree(run_dir, ignore_errors=True)
    try:
        statedir.make_folder(run_dir)
    except OSError as exc:
        raise SandboxError(f"cannot create {run_dir}: {exc.strerror}") from None
    return run_dir
