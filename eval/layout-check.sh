#!/usr/bin/env bash
# Layout issue proof: every question of eval/ and every probe string of the tests, in all three
# modes, answered by the current code; the output must equal layout-before.jsonl byte for byte
# (written by the code before the restructure, commit fcf05c9, on the same index inputs).
set -euo pipefail
cd "$(dirname "$0")/.."
for m in hybrid bm25 dense; do
  .venv/bin/csbot ask --json -k 5 --mode "$m" < eval/layout-questions.txt
done | cmp - eval/layout-before.jsonl && echo "byte-identical: $(wc -l < eval/layout-before.jsonl) answers"
