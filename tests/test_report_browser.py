"""The page `mutbot report` writes, opened in a real browser: Debian's Chromium, headless. What
it renders has the tables, charts and collapsed trials; a hostile title stays text; and its
screenshot is a page, not a blank. CI installs chromium (.ci/run): without it this fails."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from mutbot.cli import main
from testing.records import candidate, run

HOSTILE = "<img src=x onerror=alert(1)>"
WIDTH, HEIGHT = 1280, 2000


def chromium(tmp_path: Path, *args: str) -> str:
    """Run headless Chromium once, bounded; its stdout. Killed with its children on a hang."""
    browser = shutil.which("chromium")
    assert browser, "chromium is not installed (apt-get install chromium; .ci/run does)"
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    ) as process:
        try:
            out, err = process.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    best = candidate("best", title=f"Use 4 workers {HOSTILE}", factor=0.5)
    second = candidate("second", title="Keep-alive on", factor=0.8)
    blocked = candidate("blocked", title="Edit CI", rejected_at=("policy", "never pushed"))
    results = folder / "results.json"
    results.write_text(
        run([blocked, second, best], ["best", "second"]).model_dump_json(), encoding="utf-8"
    )
    assert main(["report", str(results)]) == 0
    return folder / "report.html"


def test_the_rendered_page_has_its_tables_charts_and_trials(page: Path, tmp_path: Path) -> None:
    dom = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.count("<article") == 3
    assert dom.count("<svg") == 3  # the estimates and two pairs charts
    assert dom.count("<table") >= 4  # the ranking, figures tables, trials
    assert dom.count("<details") >= 6 and "<details open" not in dom
    assert "<img" not in dom and "<script" not in dom  # the hostile title is text
    assert "Use 4 workers &lt;img src=x onerror=alert(1)&gt;" in dom


def test_a_screenshot_is_a_page(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    chromium(tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", page.as_uri())
    pixels = image.imread(shot)
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    grey = np.asarray(pixels[..., :3], dtype=float).mean(axis=2)
    assert grey.std() > 0.05  # text, tables and charts, not one colour
    assert (grey < 0.5).mean() > 0.01  # dark ink on a fair share of it
