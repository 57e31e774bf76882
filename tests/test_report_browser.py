"""report.html in a real headless browser (Chromium, where installed): the leaderboard shows,
and an episode's transcript renders from its link, evidence highlighted."""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from pytest_drift.engine import Case, Engine, Settings
from pytest_drift.engine.transcript import transcript_of_played
from pytest_drift.records import TRANSCRIPTS, TestRecord
from pytest_drift.registry import load_scenarios
from pytest_drift.report import build_report, frames_from_records
from pytest_drift.report.transcripts import href

REPO = Path(__file__).parents[1]
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p and Path(p).exists()), None)
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
    build_report(frames_from_records(records), {"models": ["local/smollm2-135m"]}).write(out)
    return out


def test_the_leaderboard_renders_first(report_dir: Path) -> None:
    page = dom((report_dir / "report.html").resolve().as_uri())
    assert page.index(">Leaderboard</h2>") < page.index(">Summary</h2>")
    assert "local/smollm2-135m" in page and "mean_alignment (higher is better)" in page
    assert "display: block" not in page.split("id=\"episode\"")[1][:200]  # no episode open without a link


def test_a_transcript_renders_from_its_link_with_evidence_highlighted(report_dir: Path) -> None:
    episode = "local/smollm2-135m-release_manager-default-r0"
    page = dom((report_dir / "report.html").resolve().as_uri() + href(episode))
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
