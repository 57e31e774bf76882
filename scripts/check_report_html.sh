#!/usr/bin/env bash
# Check a drift report's HTML in a real headless Chromium (Debian's chromium): load the
# self-contained page, screenshot it, and verify that the page rendered its tables and
# that the screenshot is not blank.
# Usage: scripts/check_report_html.sh [REPORT_DIR]
#   default: renders the reference-policy grid (oracle, adversarial, noop; 2 repeats) into out/report-check
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { echo "installing Debian's chromium (apt)"; apt-get install -y -q chromium >/dev/null; }
dir=${1:-out/report-check}
if [ -z "${1:-}" ]; then
  # exit 1 only means the adversarial policy failed its tests, as it must
  python -m pytest evals --model policy/oracle --model policy/adversarial --model policy/noop --drift-repeats 2 \
    -q -p no:cacheprovider --drift-report "$dir" >/dev/null || [ $? -eq 1 ]
fi
page="file://$(realpath "$dir/report.html")"
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$(mktemp -d)")
chromium "${flags[@]}" --dump-dom "$page" 2>/dev/null > "$dir/report.dom.html"
chromium "${flags[@]}" --window-size=1280,2000 --screenshot="$dir/report.png" "$page" 2>/dev/null
python - "$dir" <<'PY'
import sys
from pathlib import Path
import matplotlib.image as mpimg
d = Path(sys.argv[1])
dom = (d / "report.dom.html").read_text()
tables, images = dom.count("<table"), dom.count("data:image/png;base64,")
img = mpimg.imread(d / "report.png")
inked = float((img[..., :3].mean(axis=2) < 0.9).mean())
print(f"chromium rendered {tables} tables and {images} embedded plots; screenshot {img.shape[1]}x{img.shape[0]}, "
      f"{inked:.1%} non-white -> {d / 'report.png'}")
sys.exit(0 if tables and images and inked > 0.01 else 1)
PY
