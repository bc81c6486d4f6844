"""The `.mutbot/` folder mutbot keeps in a project (runs, the local ledger). Whatever creates it
goes through `make_folder`, which gives it its own `.gitignore` first, as pytest's cache does,
so that `git status` of the user's checkout stays as it was."""

from __future__ import annotations

import os
from pathlib import Path

NAME = ".mutbot"
IGNORE_ALL = b"# Created by mutbot: its runs and local ledger stay out of git.\n*\n"


def make_folder(folder: Path) -> Path:
    """Create `folder` and its parents; when it is a `.mutbot` folder or inside one, that
    folder gets a `.gitignore` of `*` before anything else is written there (one the user
    wrote is kept). OSError as mkdir raises it."""
    for place in (folder, *folder.parents):
        if place.name == NAME:
            place.mkdir(parents=True, exist_ok=True)
            try:  # O_EXCL: two runs starting at once write it once
                fd = os.open(place / ".gitignore", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                break
            try:
                os.write(fd, IGNORE_ALL)
            finally:
                os.close(fd)
            break
    folder.mkdir(parents=True, exist_ok=True)
    return folder
