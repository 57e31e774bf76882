#!/usr/bin/env bash
# Re-record the shipped cassettes of the embedded real model (local/smollm2-135m) and
# their baseline verdicts. Needs the `local` extra (compiles llama.cpp once, ~6 min).
# Usage: scripts/record_local.sh [-k EXPRESSION]   e.g. scripts/record_local.sh -k release_manager
set -euo pipefail
cd "$(dirname "$0")/.."
python -c "import llama_cpp" 2>/dev/null || pip install -e ".[local]"
# Exit 1 only means some episodes showed the behaviour; that is data, not a failure.
python -m pytest evals --model local/smollm2-135m --record-mode=rewrite --drift-update-baseline \
  --drift-report out/record-local -q "$@" || [ $? -eq 1 ]
