#!/usr/bin/env bash
# Run lm-eval-harness (0.4.x) on the mirror-backed tasks in bench/lmeval/tasks/, logging samples.
#
#   bench/lmeval/run.sh OUT_DIR TASKS [LIMIT] [-- extra lm-eval arguments]
#
#   TASKS   comma-separated: promgate_arc_easy,promgate_arc_challenge,promgate_piqa,
#           promgate_winogrande,promgate_mmlu (or the tag `promgate` for all five)
#   LIMIT   items per task (default: all)
# Environment: PROMGATE_MIRROR (required), MODEL (default models/base), DEVICE (cpu),
#   DTYPE (float32), BATCH_SIZE (16), LMEVAL (the lm-eval command; default `lm-eval`).
# Writes OUT_DIR/<model>/results_*.json and samples_<task>_*.jsonl; read them with
# `promgate import lm-eval OUT_DIR --out RESULTS_DIR`.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
out=$1 tasks=$2
shift 2
limit=()
if [[ $# -gt 0 && $1 != "--" ]]; then
  limit=(--limit "$1")
  shift
fi
[[ ${1:-} == "--" ]] && shift
: "${PROMGATE_MIRROR:?set PROMGATE_MIRROR to the benchmark mirror}"
export PROMGATE_MIRROR

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
model=$(realpath "${MODEL:-$here/../../models/base}")
# Offline: the tasks read only the mirror, the model is a local folder.
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

${LMEVAL:-lm-eval} run \
  --model hf \
  --model_args "pretrained=$model,dtype=${DTYPE:-float32}" \
  --device "${DEVICE:-cpu}" \
  --batch_size "${BATCH_SIZE:-16}" \
  --include_path "$here/tasks" \
  --tasks "$tasks" \
  --num_fewshot 0 \
  --log_samples \
  --output_path "$out" \
  "${limit[@]}" "$@"
