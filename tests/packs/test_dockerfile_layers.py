"""Package caches in the Dockerfile pack's layers: one finding per package manager, its fix an
edit of every RUN that needs it in the file's own style, each move proved by a re-scan; pip's
`--no-cache` abbreviation and PIP_NO_CACHE_DIR count as set; `apt-get -y install` and
`apt-get install -y` are both seen."""

from __future__ import annotations

import pytest

from mutbot.packs.dockerfile import PACK
from mutbot.packs.model import Finding
from testing.packs import applied, proves, view_of

HEAD = "FROM python:3.12-slim\n"
TAIL = "USER 10001\n"


def caches(text: str) -> list[Finding]:
    view = view_of({"Dockerfile": text})
    found = PACK.detect(view, PACK.scan(view))
    return [f for f in found if f.category == "package-cache-in-layer"]


def fixed(text: str) -> list[str]:
    """The Dockerfile after each move of each finding, every move proved."""
    files = {"Dockerfile": text}
    out = []
    for finding in caches(text):
        for move in finding.fix:
            proves(PACK, files, move)
            out.append(applied(files, move)["Dockerfile"])
    return out


@pytest.mark.parametrize(
    "run",
    [
        "RUN pip install --no-cache-dir flask",
        "RUN pip install --no-cache flask",  # pip's own abbreviation of --no-cache-dir
        "RUN pip install --no-cache-d flask",
        "RUN PIP_NO_CACHE_DIR=1 pip install flask",
        "RUN pip install flask && rm -rf /root/.cache/pip",
        "RUN pip install flask && pip cache purge",
        "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt",
        "RUN uv pip install --system flask",  # uv: its own cache and flags
    ],
)
def test_pip_without_a_cache_left(run: str) -> None:
    assert caches(f"{HEAD}{run}\n{TAIL}") == []


def test_pip_no_cache_dir_from_an_earlier_env() -> None:
    text = (
        f"{HEAD}ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1\nRUN pip install x\n{TAIL}"
    )
    assert caches(text) == []


@pytest.mark.parametrize(
    ("run", "after"),
    [
        ("RUN pip install flask", "RUN pip install --no-cache-dir flask"),
        ("RUN python -m pip install -U pip", "RUN python -m pip install --no-cache-dir -U pip"),
        (
            "RUN pip3 install -r a.txt && pip install --no-cache gunicorn",
            "RUN pip3 install --no-cache-dir -r a.txt && pip install --no-cache gunicorn",
        ),
        (
            "RUN pip install \\\n    -r requirements.txt",
            "RUN pip install --no-cache-dir \\\n    -r requirements.txt",
        ),
    ],
)
def test_pip_fix(run: str, after: str) -> None:
    [finding] = caches(f"{HEAD}{run}\n{TAIL}")
    assert finding.title == "Install Python packages with pip --no-cache-dir"
    assert fixed(f"{HEAD}{run}\n{TAIL}") == [f"{HEAD}{after}\n{TAIL}"]


def test_one_pip_finding_for_several_runs_one_move_each() -> None:
    text = f"{HEAD}RUN pip install a\nRUN echo hi\nRUN pip install b\n{TAIL}"
    [finding] = caches(text)
    assert finding.why.endswith("(lines 2, 4)")
    assert [m.seen.setting.name for m in finding.fix] == ["RUN 1", "RUN 3"]


def test_an_exec_form_run_is_seen_but_not_edited() -> None:
    [finding] = caches(f'{HEAD}RUN ["pip", "install", "flask"]\n{TAIL}')
    assert finding.fix == ()


@pytest.mark.parametrize(
    "run",
    [
        "RUN apt-get -y install curl",
        "RUN apt-get install -y curl",
        "RUN apt-get -qq -y install curl",
        "RUN apt-get -o Dpkg::Options::=--force-confnew install -y curl",
        "RUN apt install -y curl",
    ],
)
def test_apt_install_in_every_spelling(run: str) -> None:
    [finding] = caches(f"{HEAD}{run}\n{TAIL}")
    assert "recommended packages and the package lists" in finding.why
    [new] = fixed(f"{HEAD}{run}\n{TAIL}")
    assert "--no-install-recommends" in new and new.endswith(
        " && rm -rf /var/lib/apt/lists/*\n" + TAIL
    )


@pytest.mark.parametrize(
    "run",
    [
        "RUN apt-get update && apt-get install -y --no-install-recommends curl"
        " && rm -rf /var/lib/apt/lists/*",
        "RUN apt-get -o APT::Install-Recommends=false install -y curl && rm -rf /var/lib/apt/lists",
        "RUN --mount=type=cache,target=/var/lib/apt apt-get install -y curl",
    ],
)
def test_apt_without_a_cache_left(run: str) -> None:
    assert caches(f"{HEAD}{run}\n{TAIL}") == []


def test_apt_fix_keeps_the_continuation_style() -> None:
    text = (
        f"{HEAD}RUN apt-get update \\\n"
        "    && apt-get -y install \\\n"
        "       libpq5 curl \\\n"
        "    && curl -fsSL https://example.invalid/x.sh | sh\n"
        f"{TAIL}"
    )
    assert fixed(text) == [
        f"{HEAD}RUN apt-get update \\\n"
        "    && apt-get -y install --no-install-recommends \\\n"
        "       libpq5 curl \\\n"
        "    && curl -fsSL https://example.invalid/x.sh | sh \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        f"{TAIL}"
    ]


def test_apt_lists_stay_where_a_later_run_installs_without_updating() -> None:
    text = f"{HEAD}RUN apt-get update && apt-get install -y curl\nRUN apt-get install -y jq\n{TAIL}"
    [finding] = caches(text)
    first, second = (applied({"Dockerfile": text}, m)["Dockerfile"] for m in finding.fix)
    assert first.splitlines()[1] == (
        "RUN apt-get update && apt-get install --no-install-recommends -y curl"
    )
    assert second.splitlines()[2] == (
        "RUN apt-get install --no-install-recommends -y jq && rm -rf /var/lib/apt/lists/*"
    )


def test_recommends_switched_off_by_an_apt_config() -> None:
    text = (
        f"{HEAD}RUN echo 'APT::Install-Recommends \"0\";' > /etc/apt/apt.conf.d/00norec\n"
        f"RUN apt-get update && apt-get install -y curl\n{TAIL}"
    )
    [finding] = caches(text)
    assert "recommended" not in finding.why
    assert [f.splitlines()[2] for f in fixed(text)] == [
        "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*"
    ]


@pytest.mark.parametrize(
    ("run", "after"),
    [
        ("RUN apk add curl", "RUN apk add --no-cache curl"),
        ("RUN apk update && apk add curl tini", "RUN apk add --no-cache curl tini"),
        ("RUN apk add --virtual .deps gcc", "RUN apk add --no-cache --virtual .deps gcc"),
    ],
)
def test_apk_fix(run: str, after: str) -> None:
    head = "FROM alpine:3.22\n"
    [finding] = caches(f"{head}{run}\n{TAIL}")
    assert finding.title == "Install apk packages with --no-cache"
    assert fixed(f"{head}{run}\n{TAIL}") == [f"{head}{after}\n{TAIL}"]


def test_a_builder_stage_cache_does_not_reach_the_image() -> None:
    text = (
        "FROM python:3.12 AS build\nRUN pip wheel -w /w flask\n"
        "FROM python:3.12-slim\nCOPY --from=build /w /w\n"
        "RUN pip install --no-cache-dir /w/*\nUSER 1\n"
    )
    assert caches(text) == []


@pytest.mark.parametrize(
    ("run", "left"),
    [
        ("RUN apk add --no-cache curl", False),
        ("RUN apk update && apk add --no-cache curl", True),  # the index from `apk update`
        ("RUN python -m pip install flask", True),
    ],
)
def test_other_caches_left(run: str, left: bool) -> None:
    assert bool(caches(f"FROM alpine:3.22\n{run}\n{TAIL}")) is left


def test_continuation_lines_keep_their_numbers() -> None:
    text = (
        f"{HEAD}"
        "# tools\n"
        "RUN apt-get update \\\n"
        "    # jq for the healthcheck\n"
        "    && apt-get install -y jq\n"
        "COPY . /srv\n"
        "RUN cd /srv \\\n"
        "    && pip install --no-cache-dir -r requirements.txt\n"
        f"{TAIL}"
    )
    view = view_of({"Dockerfile": text})
    found = {(f.category, f.site.line) for f in PACK.detect(view, PACK.scan(view))}
    assert {("package-cache-in-layer", 3), ("cache-busting-copy", 6)} <= found
