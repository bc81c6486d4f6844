# mutbot as a container, for CI systems other than GitHub Actions (docs/github.md):
#
#   docker build -t mutbot .
#   docker run --rm --network host \
#     -v /var/run/docker.sock:/var/run/docker.sock -v "$PWD:/work" mutbot run
#
# The sandboxes are the host engine's containers, siblings of this one, reached through the
# socket; `--network host` lets this container reach them the way the host does.
#
# It runs as root on purpose: the socket belongs to root and the host's `docker` group, whose
# gid differs from host to host, and anyone who can use the socket is root on the host anyway.
# A non-root user would need `--group-add "$(stat -c %g /var/run/docker.sock)"`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# git for mutbot's worktrees; the Docker client only. Debian bookworm has no client-only
# package and docker.io would pull in the daemon, containerd and runc, so the `docker` binary
# (linked against libc alone) is taken out of the .deb and the rest thrown away. The checkout
# is mounted from the host with the host user's uid: git must be told to read it anyway.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && cd /tmp \
    && apt-get download docker.io \
    && dpkg-deb --fsys-tarfile docker.io_*.deb | tar -x -C / ./usr/bin/docker \
    && rm -f docker.io_*.deb \
    && rm -rf /var/lib/apt/lists/* \
    && docker --version \
    && git config --system --add safe.directory '*'

# mutbot and its dependencies (Locust among them), at the tested versions.
COPY pyproject.toml README.md constraints.txt /src/mutbot/
COPY src /src/mutbot/src
COPY sandbox /src/mutbot/sandbox
COPY prompts /src/mutbot/prompts
RUN pip install --no-cache-dir --root-user-action=ignore -c /src/mutbot/constraints.txt /src/mutbot \
    && rm -rf /src/mutbot && mutbot --version

WORKDIR /work
ENTRYPOINT ["mutbot"]
CMD ["--help"]
