"""Images for the Docker backend (docker-py): a build streamed to its log, a cold build timed
and thrown away, and an image's size as a registry stores it."""

from __future__ import annotations

import io
import tarfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors
import requests.exceptions

from mutbot.backends.docker_services import tail
from mutbot.config_sandbox import Sandbox
from mutbot.errors import StageFailure

CHUNK = 1 << 20  # bytes read from `docker save` at a time
GZIP_LEVEL = 6  # what `docker push` uses (Go's default compression)


@dataclass(frozen=True)
class Built:
    image: Any  # docker-py Image
    seconds: float


def build_image(
    client: Any,
    sandbox: Sandbox,
    context: Path,
    tag: str,
    log: Path,
    labels: dict[str, str],
    *,
    dockerfile: str,
    nocache: bool = False,
) -> Built:
    """Build `context` into `tag`, the engine's output in `log`; StageFailure('build')."""
    started = time.monotonic()
    last_error = ""
    with log.open("w", encoding="utf-8") as out:
        try:
            for chunk in client.api.build(
                path=str(context),
                dockerfile=dockerfile,
                tag=tag,
                rm=True,
                forcerm=True,
                nocache=nocache,
                decode=True,
                labels=labels,
                pull=False,
                target=sandbox.build.target,
                buildargs=dict(sandbox.build.args) or None,
                timeout=int(sandbox.build_timeout),
            ):
                if "stream" in chunk:
                    out.write(chunk["stream"])
                if "error" in chunk:
                    last_error = str(chunk["error"]).strip()
                    out.write(last_error + "\n")
        except docker.errors.APIError as exc:
            last_error = str(exc.explanation or exc)
            out.write(last_error + "\n")
        except requests.exceptions.RequestException:
            last_error = f"no output for {sandbox.build_timeout:g}s (sandbox.build_timeout)"
            out.write(last_error + "\n")
    if last_error:
        raise StageFailure("build", f"build failed: {tail(last_error)}")
    seconds = time.monotonic() - started
    try:
        return Built(client.images.get(tag), seconds)
    except docker.errors.DockerException as exc:
        raise StageFailure("build", f"the built image is gone: {exc}") from None


def remove_image(client: Any, tag: str) -> None:
    """Remove a throwaway image and the layers only it used (never another image's)."""
    try:
        client.images.remove(tag, force=True, noprune=False)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError:
        pass  # still in use: the run's reaper removes it by its labels at the end


class _Stream(io.RawIOBase):
    """A docker-py byte-chunk generator as a file tarfile can read in stream mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            try:
                self._rest = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._rest))
        buffer[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size


def compressed_mb(client: Any, image_id: str, cache: dict[str, int]) -> float:
    """The image as pulled: each layer's tar gzip-compressed at `docker push`'s level, summed
    (MiB). `cache`: layer name -> compressed bytes, so layers shared by both sides of a run
    (the base image) are compressed once. The registry's own figure may differ by a few
    percent (another gzip implementation); both sides are measured the same way."""
    total = 0
    stream = io.BufferedReader(_Stream(iter(client.api.get_image(image_id, chunk_size=CHUNK))))
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            if not member.isfile() or not _is_layer(member.name):
                continue
            if member.name not in cache:
                source = archive.extractfile(member)
                cache[member.name] = _gzipped_size(source) if source else 0
            total += cache[member.name]
    return total / 1024**2


def _is_layer(name: str) -> bool:
    # docker save: `<id>/layer.tar` (legacy format); OCI layouts keep layers as blobs
    return name.endswith("/layer.tar") or name.startswith("blobs/sha256/")


def _gzipped_size(source: io.BufferedReader | Any) -> int:
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: a gzip stream
    size = 0
    while block := source.read(CHUNK):
        size += len(packer.compress(block))
    return size + len(packer.flush())
