"""report.html's structure, without a browser (tests/test_report_browser.py drives it in one):
every table sorts and filters, the page's scripts parse, nothing is fetched from elsewhere."""

from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tools import required

from pytest_drift import Outcome
from pytest_drift.records import TestRecord
from pytest_drift.report import build_report, frames_from_records


class Page(HTMLParser):
    """Tables (with their header cells' classes and whether a filter box came just before),
    inline scripts by type, and every attribute that names a URL."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, object]] = []
        self.scripts: list[tuple[str, str]] = []
        self.urls: list[str] = []
        self._script: str | None = None
        self._filter_pending = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]
        if tag == "input" and "filter" in (a.get("class") or ""):
            self._filter_pending = True
        elif tag == "table":
            self.tables.append({"class": a.get("class") or "", "filter": self._filter_pending, "th": []})
            self._filter_pending = False
        elif tag == "th" and self.tables:
            self.tables[-1]["th"].append(a.get("class") or "")  # type: ignore[union-attr]
        elif tag == "script":
            self._script = a.get("type") or "text/javascript"
            self.scripts.append((self._script, ""))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            kind, text = self.scripts[-1]
            self.scripts[-1] = (kind, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


def gym(model: str, variant: str, value: float) -> TestRecord:
    o = Outcome(episode_id=f"{model}-g-{variant}-r0", model=model, scenario="g", family="gym", variant=variant,
                repeat=0, seed=0, label_status="ok", termination="done", headline="mean_alignment", threshold=0.6,
                better="higher", metrics={"mean_alignment": value}, series={"alignment": [value] * 3})
    return TestRecord(f"evals/t.py::t[{o.episode_id}]", "passed" if value >= 0.6 else "failed", o)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Page:
    out = tmp_path_factory.mktemp("html")
    refs = [gym("policy/oracle", v, 1.0).outcome for v in ("a", "b")] + [gym("policy/random", v, 0.2).outcome
                                                                        for v in ("a", "b")]
    records = [gym("m", "a", 0.9), gym("m", "b", 0.4), gym("n", "a", 0.7), gym("n", "b", 0.8)]
    build_report(frames_from_records(records, [o for o in refs if o is not None]), {"models": ["m", "n"]},
                 with_plots=False).write(out, formats=("html",))
    parsed = Page()
    parsed.feed((out / "report.html").read_text())
    return parsed


def test_every_table_has_sortable_headers_and_a_filter_box(page: Page) -> None:
    assert len(page.tables) >= 5
    for t in page.tables:
        assert "sortable" in str(t["class"]) and t["filter"], t
        assert t["th"] and all("sort" in c.split() for c in t["th"]), t  # type: ignore[union-attr]


def test_nothing_is_fetched_from_elsewhere(page: Page) -> None:
    """Offline: no external script, style or image; links stay in the page."""
    assert page.urls and all(u.startswith(("#", "data:")) for u in page.urls), [u for u in page.urls
                                                                              if not u.startswith(("#", "data:"))]


def test_the_inline_scripts_parse(page: Page, tmp_path: Path) -> None:
    code = [text for kind, text in page.scripts if kind == "text/javascript"]
    assert len(code) == 2 and "sortBy" in code[1]  # the transcript viewer, then the table sorter
    node = required("node", "it checks the inline scripts' syntax")
    for i, text in enumerate(code):
        path = tmp_path / f"s{i}.js"
        path.write_text(text)
        done = subprocess.run([node, "--check", str(path)], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
