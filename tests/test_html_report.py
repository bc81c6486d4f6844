"""`mutbot report` (src/mutbot/html_report.py, the template, the CLI command): one page, every
text from results.json escaped, nothing fetched, and a clear one-line error for a file that is
no results.json."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings

from mutbot.cli import main
from mutbot.html_report import Unreadable, render_page
from mutbot.plots import inline_pictures
from mutbot.results import RunResult
from testing.defusing import hostile_text
from testing.records import candidate, run

HOSTILE = '<img src=x onerror=alert(1)> "quoted" </details></table><script>alert(2)</script>'


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(page: str) -> Elements:
    elements = Elements()
    elements.feed(page)
    return elements


def hostile_run() -> RunResult:
    best = candidate("best", title=HOSTILE, factor=0.5, diff="+<b>bold</b> ```\n")
    second = candidate("second", title="Keep-alive on", factor=0.8, rationale=HOSTILE)
    blocked = candidate("blocked", title="Edit CI", rejected_at=("policy", HOSTILE))
    return run([blocked, second, best], ["best", "second"])


def page_of(result: RunResult) -> str:
    charts, notes = inline_pictures(result)
    assert notes == []
    return render_page(result, charts, notes)


def test_the_page_has_every_part_and_escapes_every_text() -> None:
    page = page_of(hostile_run())
    elements = parsed(page)
    names = [tag for tag, _ in elements.tags]
    assert names.count("svg") == 3  # the estimates, two pairs charts
    assert names.count("article") == 3 and names.count("details") >= 6
    assert "img" not in names and "script" not in names  # the hostile title is text
    text = "".join(elements.text)
    assert text.count(HOSTILE) >= 3  # the ranking, its card, a rejection's reason
    links = [a["href"] for tag, a in elements.tags if tag == "a"]
    assert links == ["#c1", "#c2", "#c3"]  # the ranking, in the summary's order
    assert [a["id"] for tag, a in elements.tags if tag == "article"] == ["c1", "c2", "c3"]
    assert "+<b>bold</b> ```" in text  # the diff, as text


def test_nothing_on_the_page_is_fetched_or_run() -> None:
    page = page_of(hostile_run())
    elements = parsed(page)
    for tag, attrs in elements.tags:
        assert not any(name.startswith("on") for name in attrs), tag
        for name in ("src", "href", "xlink:href", "action", "srcset"):
            value = attrs.get(name) or ""
            assert value == "" or value.startswith("#"), (tag, name, value)
    assert not re.search(r"(?i)\b(?:https?|ftp):|url\((?!#)|@import|<link|<script", page)
    csp = [a for t, a in elements.tags if t == "meta" and a.get("http-equiv")]
    assert csp and csp[0]["content"] == "default-src 'none'; style-src 'unsafe-inline'"


def test_svg_ids_differ_between_pictures() -> None:
    page = page_of(hostile_run())
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    for ref in re.findall(r'href="#([^"]+)"|url\(#([^)]+)\)', page):
        assert (ref[0] or ref[1]) in ids


def test_a_run_without_candidates_or_charts() -> None:
    page = render_page(run([], []), {}, ["pictures: not drawn: a reason"])
    assert "No candidate was evaluated." in page and "pictures: not drawn: a reason" in page
    assert "<svg" not in page


def test_a_run_it_cannot_show() -> None:
    unknown = run([], []).model_copy(update={"objective": {"primary": "joy"}})
    with pytest.raises(Unreadable, match=r"objective\.primary"):
        render_page(unknown, {}, [])


def test_the_command_writes_the_page_beside_results_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results.json"
    results.write_text(hostile_run().model_dump_json(), encoding="utf-8")
    assert main(["report", str(results)]) == 0
    assert capsys.readouterr().out == f"report: {tmp_path / 'report.html'}\n"
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!doctype html>")
    out = tmp_path / "elsewhere" / "run.html"
    assert main(["report", str(results), "-o", str(out)]) == 0 and out.is_file()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read: No such file or directory"),
        ("{not json", "results.json: "),
        ('{"run_id": 1}', "not a mutbot results.json"),
        ("[]", "not a mutbot results.json"),
    ],
)
def test_a_file_that_is_no_results_json_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    results = tmp_path / "results.json"
    if content is not None:
        results.write_text(content, encoding="utf-8")
    assert main(["report", str(results)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("mutbot: error: ") and expected in err and err.count("\n") == 1
    assert not (tmp_path / "report.html").exists()


def test_an_unknown_primary_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(hostile_run().model_dump_json())
    data["objective"]["primary"] = "happiness"
    results = tmp_path / "results.json"
    results.write_text(json.dumps(data), encoding="utf-8")
    assert main(["report", str(results)]) == 3
    err = capsys.readouterr().err
    assert "cannot show: objective.primary" in err and err.count("\n") == 1


ALLOWED = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "h1", "h2", "h3", "p",
    "span", "code", "dl", "dt", "dd", "section", "div", "table", "thead", "tbody", "tr", "th",
    "td", "a", "strong", "figure", "figcaption", "article", "details", "summary", "pre", "footer",
}  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(title=hostile_text, rationale=hostile_text, reason=hostile_text, diff=hostile_text)
def test_any_text_in_results_json_stays_text(
    title: str, rationale: str, reason: str, diff: str
) -> None:
    measured = candidate("m", title=title, rationale=rationale, diff=diff, factor=0.6)
    refused = candidate("r", title=reason, rejected_at=("policy", reason))
    page = render_page(run([refused, measured], ["m"]), {}, [reason])
    elements = parsed(page)
    assert {tag for tag, _ in elements.tags} <= ALLOWED
    for _tag, attrs in elements.tags:
        assert not any(name.startswith("on") for name in attrs)
        assert (attrs.get("href") or "#").startswith("#")


def test_a_candidate_screening_left_out_reads_as_left_out_with_no_infinite_interval() -> None:
    """As the terminal ranks it: undecided (measured again next run), not rejected; three
    screening pairs give no 99% interval, so none is drawn or printed (not '-100% … +inf')."""
    from mutbot.estimates import forest

    best = candidate("best", factor=0.5)
    screened = candidate("screened", title="Threads 1 to 2", factor=0.8)
    screened = screened.model_copy(
        update={
            "verdict": "reject",
            "stage": "screen",
            "reason": "screening estimate -20.0%, not among the 1 best to confirm",
            "final": False,
            "screening": screened.pairs[:3],
            "pairs": [],
            "comparisons": {},
            "judgement": None,
        }
    )
    result = run([screened, best], ["best"])
    rows = {r.slug: r for r in (forest(result) or pytest.fail("no forest")).rows}
    assert rows["screened"].source == "screening" and rows["screened"].pairs == 3
    assert rows["screened"].low != rows["screened"].low  # NaN: no interval
    page = render_page(result, *inline_pictures(result))
    text = " ".join(parsed(page).text)
    assert "left out" in text and "1 left out by screening" in text and "0 rejected" in text
    assert "+inf" not in text and "too few pairs for one" in text
