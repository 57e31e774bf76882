#!/usr/bin/env bash
# Re-record this repository's shipped cassettes of the embedded real model (local/smollm2-135m)
# and their baseline verdicts. Needs the `local` extra (compiles llama.cpp once, ~6 min).
# Usage: scripts/record_local.sh [-k EXPRESSION]   e.g. scripts/record_local.sh -k release_manager
# Any other project records its own evals with `pytest-drift record` (docs/scenarios.md).
set -euo pipefail
cd "$(dirname "$0")/.."
python -c "import llama_cpp" 2>/dev/null || pip install -e ".[local]"
# pytest-drift record: evals --model local/smollm2-135m --record-mode=rewrite --drift-update-baseline;
# its exit is 0 when pytest's is 1 (some episodes showed the behaviour: data, not a failure).
python -m pytest_drift.cli record evals -q --drift-report out/record-local "$@"
