#!/usr/bin/env bash
# End-to-end test stories (tests/e2e/test_*.yml): every user message goes through the NLU
# model and every predicted action is compared with the story. Any wrong intent or action
# fails the run; the report and failed stories are in results/e2e/.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf results/e2e
.venv/bin/rasa test core --e2e --model models/hilo.tar.gz --stories tests/e2e \
  --fail-on-prediction-errors --out results/e2e --quiet
echo "e2e: $(grep -c 'story:' tests/e2e/test_*.yml | awk -F: '{s+=$2} END {print s}') stories passed"
