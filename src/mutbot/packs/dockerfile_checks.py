"""The Dockerfile pack's detectors (pure), one finding per fix. Here: floating and end-of-life
base images, a full image where the slim one builds, and a container running as root; the
layer detectors are in `dockerfile_layers`. A move is offered only when the changed Dockerfile
reads back as intended (see `dockerfile_moves`)."""

from __future__ import annotations

import re
from dataclasses import replace

from mutbot.discover.dockerfile_syntax import image_ref
from mutbot.packs import dockerfile_images as images
from mutbot.packs.dockerfile_layers import layer_findings
from mutbot.packs.dockerfile_moves import finding, through_setter
from mutbot.packs.dockerfile_read import Built, variables
from mutbot.packs.dockerfile_user import is_root, plan, port_allows
from mutbot.packs.model import Finding, Seen
from mutbot.packs.view import View
from mutbot.shellcmds import commands, packages, pip_install_args

END_OF_LIFE = "end-of-life-base-image"  # a category mutbot.proposers.base does not list yet
_TOOLCHAINS = ("golang", "rust", "maven", "gradle")
_JDKS = ("openjdk", "eclipse-temurin", "amazoncorretto")


def findings(view: View, built: Built, seen: list[Seen]) -> list[Finding]:
    named = {s.setting.name: s for s in seen}
    return [
        *_floating(view, built, named),
        *_end_of_life(built),
        *_heavy(view, built, named),
        *layer_findings(built, named),
        *_root(view, built, named),
    ]


def _images(built: Built) -> list[tuple[str, str, int, str]]:
    """(setting name, image as written, 1-based line, image with global ARGs resolved) of
    every stage that starts from an image."""
    args = {n: v for i in built.globals for n, v, _, _, _ in variables(built, i) if v is not None}
    out = []
    for index in sorted((*built.builders, *built.chain)):
        stage = built.stages[index]
        if stage.parent is None:
            resolved = images.resolve(stage.image, args)
            out.append((f"{built.label(index)}FROM", stage.image, stage.start.line, resolved))
    return out


def _final_base(built: Built) -> int:
    """The line of the FROM the built image starts from (its environment is the build's)."""
    return built.stages[built.chain[0]].start.line


def _repository(image: str, tag: str) -> str:
    """The image without its tag and digest."""
    image = image.split("@")[0]
    return image[: -len(tag) - 1] if tag and image.endswith(":" + tag) else image


def _floating(view: View, built: Built, named: dict[str, Seen]) -> list[Finding]:
    out = []
    for name, image, line, resolved in _images(built):
        ref = image_ref(resolved)
        if "$" in resolved or not images.floating(ref):
            continue
        known = images.known_version(view.repo, ref, built.path)
        if known is None and line == _final_base(built):
            known = images.resolved_version(view.resolved, ref)
        shown = image if resolved == image else f"{image}` (`{resolved}` by its ARG default)"
        why = f"`FROM {shown}` names no version: each build may pull a newer release"
        move = None
        if known is None:
            why += "; pin it to the version the baseline build resolves (known once it is built)"
        else:
            version, where = known
            why += f"; {where} says {version}"
            new = f"{_repository(image, ref.tag)}:{images.pinned(ref, version)}"
            if "$" not in image:
                move = through_setter(built, named.get(name), new, f"the version {where} names")
        title = f"Pin the base image `{image}` ({built.path}:{line})"
        fix = [move] if move else []
        out.append(finding(built, "unpinned-base-image", line, why, title, fix, name))
    return out


def _end_of_life(built: Built) -> list[Finding]:
    out = []
    for name, image, line, resolved in _images(built):
        ended = images.end_of_life(image_ref(resolved))
        if ended is None:
            continue
        why = (
            f"`{image}` is on {ended.what}, which reached its end of life on {ended.ended} "
            f"and gets no more security fixes; `{ended.successor}` is a supported successor"
        )
        title = f"Move `{image}` off {ended.what} ({built.path}:{line})"
        out.append(finding(built, END_OF_LIFE, line, why, title, (), name))
    return out


def _heavy(view: View, built: Built, named: dict[str, Seen]) -> list[Finding]:
    """A full runtime image whose slim variant exists. The slim move is `prove`: offered as a
    candidate the build must prove, never when the build compiles packages from source
    without installing their compiler and libraries."""
    root = built.stages[built.chain[0]]
    ref = image_ref(root.image)
    name, line = f"{built.label(built.chain[0])}FROM", root.start.line
    slim = images.slim_tag(ref)
    if slim is None or ref.digest:
        why = None
        if ref.name in _TOOLCHAINS:
            why = f"the image runs on the toolchain image `{root.image}`; a build output needs less"
        elif ref.name in _JDKS and "jre" not in ref.tag:
            why = f"the runtime image `{root.image}` is a full JDK; a JRE runs the same code"
        title = f"A smaller runtime image than `{root.image}`"
        return [finding(built, "heavy-base-image", line, why, title, (), name)] if why else []
    new = f"{_repository(root.image, ref.tag)}:{slim}"
    why = f"the runtime image is `{root.image}`; `{new}` has the same runtime, far smaller"
    title = f"Use the slim base image `{new}`"
    blockers = _source_builds(view, built)
    if blockers:
        why += (
            f", but the build compiles {', '.join(blockers)} from source without installing "
            "a compiler and the libraries it needs: on the slim image it would not build"
        )
        return [finding(built, "heavy-base-image", line, why, title, (), name)]
    seen = named.get(name)
    proved = replace(seen, setting=replace(seen.setting, safety="prove")) if seen else None
    rule = "the slim variant of the same release (prove: offered only if the build succeeds)"
    move = through_setter(built, proved, new, rule)
    return [finding(built, "heavy-base-image", line, why, title, [move] if move else [], name)]


def _source_builds(view: View, built: Built) -> list[str]:
    """Installed packages pip builds from source whose compiler or libraries the built chain
    does not install itself (the full image has them; the slim one does not)."""
    values = [i.value for s in built.chain for i in built.stages[s].body if i.name == "RUN"]
    cmds = [w for v in values for w in commands(v)]
    apt = {p for w in cmds for p in packages(w)}
    pips = [args for w in cmds if (args := pip_install_args(w)) is not None]
    words = [a for args in pips for a in args if not a.startswith("-")]
    named = {re.split(r"[<>=!~\[;@ ]", w, maxsplit=1)[0].lower().replace("_", "-") for w in words}
    installed = set(view.packages) | named
    out = []
    for package, libs in images.SOURCE_BUILDS.items():
        compiled_here = bool(pips)  # else a builder stage compiled it: the runtime needs libs
        if package not in installed:
            continue
        if (compiled_here and not apt & images.COMPILERS) or (libs and not apt & set(libs)):
            out.append(package)
    return out


def _root(view: View, built: Built, named: dict[str, Seen]) -> list[Finding]:
    user = named.get("USER")
    if user is None or not isinstance(user.value, str) or not is_root(user.value):
        return []
    line = user.site.line if user.written and user.site else built.final.start.line
    allowed, because = port_allows(view)
    planned = plan(built)
    why = (
        f"the container runs as root (USER {user.value})"
        if user.written
        else "the final stage sets no USER, so the container runs as root"
    )
    move = None
    if not allowed:
        why += f"; {because}"
    elif planned is None:
        why += "; no non-root user is known for this base image"
    else:
        why += f"; {because}"
        rule = f"non-root: {because}"
        move = through_setter(built, user, planned[0], rule)
    title = "Run the container as a non-root user"
    return [finding(built, "root-user", line, why, title, [move] if move else [], "USER")]
