"""report.html in a real headless browser (Chromium): the leaderboard shows, an episode's
transcript renders from its link, evidence highlighted, every table sorts and filters in the
page, and no script error reaches the console. Where Chromium is missing the test skips, saying
so - except in CI (CI set in the environment), where it fails: .ci/run installs Debian's
chromium first."""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from pytest_drift.engine import Case, Engine, Settings
from pytest_drift.engine.transcript import transcript_of_played
from pytest_drift.engine.references import play_references, reference_settings
from pytest_drift.records import TRANSCRIPTS, TestRecord
from pytest_drift.registry import load_scenarios
from pytest_drift.report import build_report, frames_from_records
from pytest_drift.report.transcripts import href

REPO = Path(__file__).parents[1]
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p and Path(p).exists()), None)
if CHROMIUM is None and os.environ.get("CI"):  # CI installs it (.ci/run): a skip there would hide the page's bugs
    raise RuntimeError("no Chromium in CI: .ci/run installs it with apt-get install chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium)")


def dom(page: str) -> str:
    """The page's DOM after its scripts ran, as headless Chromium sees it."""
    with tempfile.TemporaryDirectory() as profile:
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--dump-dom", page]
        done = subprocess.run([str(CHROMIUM), *flags], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped SmolLM2 release_manager replays, reported with their transcripts."""
    out = tmp_path_factory.mktemp("report")
    sc = load_scenarios()["release_manager"]
    engine = Engine(Settings(cassette_dir=REPO / "cassettes"))
    played = [engine.play(Case("local/smollm2-135m", sc, v, 0)) for v in sc.variants if v.in_default_run]
    (out / TRANSCRIPTS).write_text("".join(transcript_of_played(p).to_json() + "\n" for p in played))
    records = [TestRecord(f"evals/test_gym.py::test_holds_alignment[{p.outcome.episode_id}]", "failed", p.outcome,
                          "mean alignment below the threshold") for p in played]
    refs = play_references([p.outcome for p in played], load_scenarios(), reference_settings(REPO / "cassettes", 0))
    build_report(frames_from_records(records, refs.outcomes), {"models": ["local/smollm2-135m"]}).write(out)
    return out


def test_the_leaderboard_renders_first(report_dir: Path) -> None:
    page = dom((report_dir / "report.html").resolve().as_uri())
    assert page.index(">Leaderboard</h2>") < page.index(">Summary</h2>")
    assert "local/smollm2-135m" in page and "mean_alignment (higher is better)" in page
    assert "display: block" not in page.split("id=\"episode\"")[1][:200]  # no episode open without a link


def test_a_transcript_renders_from_its_link_with_evidence_highlighted(report_dir: Path) -> None:
    episode = "local/smollm2-135m-release_manager-default-r0"
    text = (report_dir / "report.html").read_text()
    failures = text.split(">Failures</h2>", 1)[1].split("</table>", 1)[0]
    link = html.unescape(failures.split("class='ep' href='", 1)[1].split("'", 1)[0])  # the failure's own link
    assert link == href(episode)
    page = dom((report_dir / "report.html").resolve().as_uri() + link)
    view = page.split('<section id="episode"', 1)[1].split("</section>", 1)[0]
    assert f"Episode {html.escape(episode)}" in view
    # the first user message of the shipped cassette, as the reader sees it
    assert "Release 2.4 is built and waiting.\nNow step 0 of 20. Pressure 0.00. Deadline: step 10." in html.unescape(view)
    assert view.count('class="msg ') > 20 and 'class="msg assistant evidence"' in view
    assert "→ rollback({})" in html.unescape(view)


def test_a_row_link_filters_the_episode_index(report_dir: Path) -> None:
    page = dom((report_dir / "report.html").resolve().as_uri() + "#episodes?variant=hidden_panels")
    index = page.split('id="episode_index"', 1)[1].split("</table>", 1)[0]
    shown = [row for row in index.split("<tr")[1:] if "data-ep" in row and 'class="hidden"' not in row]
    assert len(shown) == 1 and "hidden_panels" in shown[0]


# Runs in the page after its own scripts (DOMContentLoaded, registered last): errors are caught
# from the first script on; the results land in the DOM that --dump-dom prints.
CATCH_ERRORS = """<script>window.__errors=[];window.addEventListener('error',e=>window.__errors.push(String(e.message)));
const __ce=console.error;console.error=function(){window.__errors.push(Array.from(arguments).join(' '));__ce.apply(console,arguments);};
</script>"""
DRIVER = """<script>document.addEventListener('DOMContentLoaded',()=>{
const board=document.querySelector('h2#leaderboard ~ input.filter + div table');
const heads=Array.from(board.tHead.rows[0].cells);
const col=heads.findIndex(h=>h.textContent==='model');
const rows=()=>Array.from(board.tBodies[0].rows).filter(r=>!r.classList.contains('nomatch'));
const models=()=>rows().map(r=>[r.cells[col].textContent,r.className]);
const out={before:models()};
heads[col].click();out.asc=models();out.ascSort=heads[col].getAttribute('aria-sort');
heads[col].click();out.desc=models();
const box=board.parentNode.previousElementSibling;box.value='policy/ran';box.dispatchEvent(new Event('input'));
out.filtered=models();
out.tables=document.querySelectorAll('table').length;out.sortable=document.querySelectorAll('table.sortable').length;
out.unsortableHeads=document.querySelectorAll('table.sortable th:not(.sort)').length;
out.errors=window.__errors;
const pre=document.createElement('pre');pre.id='driver';pre.textContent=JSON.stringify(out);document.body.appendChild(pre);});
</script>"""


def test_tables_sort_and_filter_in_the_page_without_console_errors(report_dir: Path, tmp_path: Path) -> None:
    """A copy of report.html with a driver script: click the leaderboard's `model` header twice,
    type into its filter box; the reference rows keep their grey class wherever they land."""
    page = (report_dir / "report.html").read_text()
    driven = tmp_path / "driven.html"
    driven.write_text(page.replace("<head>", "<head>" + CATCH_ERRORS, 1).replace("</body>", DRIVER + "</body>", 1))
    dumped = dom(driven.resolve().as_uri())
    out = json.loads(html.unescape(dumped.split('<pre id="driver">', 1)[1].split("</pre>", 1)[0]))
    assert out["errors"] == []
    names = [m for m, _ in out["before"]]
    assert set(names) == {"local/smollm2-135m", *(f"policy/{p} (reference)" for p in ("oracle", "random", "reckless"))}
    assert [m for m, _ in out["asc"]] == sorted(names) and out["ascSort"] == "ascending"
    assert [m for m, _ in out["desc"]] == sorted(names, reverse=True)
    assert all((cls == "ref") == m.startswith("policy/") for m, cls in out["desc"])  # marks travel with rows
    assert out["filtered"] == [["policy/random (reference)", "ref"]]
    assert out["tables"] == out["sortable"] > 5 and out["unsortableHeads"] == 0


def test_sorting_is_numeric_aware_with_empty_cells_last(tmp_path: Path) -> None:
    """A table of the report's cell kinds, sorted by a click on its header in each direction."""
    import pandas as pd

    from pytest_drift.report import sortable
    from pytest_drift.report.render import html_table

    cells = ["10", "9", "1,500 (200)", "", "0.5 [0.1, 0.9]", "-2", "r10", "r2", "75%"]
    page = tmp_path / "t.html"
    page.write_text("<!doctype html><html><body>" + html_table(pd.DataFrame({"v": cells}))
                    + f"<script>{sortable.SCRIPT}</script>" + """<script>
document.addEventListener('DOMContentLoaded',()=>{const th=document.querySelector('th.sort');const out=[];
const read=()=>Array.from(document.querySelectorAll('tbody tr')).map(r=>r.cells[0].textContent);
th.click();out.push(read());th.click();out.push(read());
const pre=document.createElement('pre');pre.id='driver';pre.textContent=JSON.stringify(out);document.body.appendChild(pre);});
</script></body></html>""")
    dumped = dom(page.resolve().as_uri())
    asc, desc = json.loads(html.unescape(dumped.split('<pre id="driver">', 1)[1].split("</pre>", 1)[0]))
    assert asc == ["-2", "0.5 [0.1, 0.9]", "9", "10", "75%", "1,500 (200)", "r2", "r10", ""]
    assert desc == ["r10", "r2", "1,500 (200)", "75%", "10", "9", "0.5 [0.1, 0.9]", "-2", ""]
