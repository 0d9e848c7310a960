#!/usr/bin/env bash
# The physical checks a 3BPA potential must pass before it is shipped, in one command, each
# step's output in its own folder under OUT:
#
#   bash benchmarks/check_potential.sh MODEL OUT [--quick]
#
# MODEL: an exported model (.pt) or a training checkpoint (best.pt, last.pt, .ckpt), exported
# here to float64 first (as deployed); or a mace-torch .model, run in its own venv through
# benchmarks/mace_socket.py (the baseline, through the same checks).  Steps:
#   frames/   E and F errors on the 32 hot test frames, per MD temperature (frame_errors.py)
#   split/    E and F errors on the 300 K training and validation frames (the trainer's split)
#   scan/     hole scans: every H bend, bond stretch and close contact (gaunt-md scan)
#   scanref/  the DFT-labelled scans against the model (scan_reference.py)
#   distorted/  E and F errors on the 36 distorted frames (H bends, stretches, contacts; per kind)
#   md_seed0/, md_seed1/  the stability protocol, 300/600/1200 K, 4 x 1 ps each (skipped by --quick)
#   nve600/   NVE from 600 K starts, 2 x 1 ps: energy drift (skipped by --quick)
# --quick took 8 min on one core shared with a training run; the MD adds ~25 min on 2 cores.
# A step that fails is reported and the others still run; the exit status is 1 if any failed
# (a scan that does not climb counts).  CHECK_STEPS="md_seed0 nve600" runs only the checks
# named (a checkpoint is still exported first): two such calls on one OUT, side by side, use
# both cores when the model runs on one thread (a mace-torch model through mace_socket.py
# does); give them an exported model, or both would write OUT/model.pt at once.
set -uo pipefail
export TQDM_DISABLE=1   # progress bars would fill the logs

if [[ $# -lt 2 ]]; then
    sed -n '2,22p' "$0"; exit 2
fi
MODEL=$1; OUT=$2; QUICK=${3:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
TRAIN_DATA=${TRAIN_DATA:-$ROOT/../shared/data/3bpa/train_300K.xyz}   # the 300 K frames (split 50, seed 123)
mkdir -p "$OUT"
failed=()

step() {  # step NAME COMMAND...: run, log to OUT/NAME.log, remember a failure
    local name=$1; shift
    echo "== $name: $*"
    if ! "$@" > "$OUT/$name.log" 2>&1; then
        failed+=("$name"); echo "   $name FAILED (see $OUT/$name.log)"
    fi
    tail -n 25 "$OUT/$name.log"
}

check() {  # check NAME COMMAND...: a step, unless CHECK_STEPS names others
    if [[ -n "${CHECK_STEPS:-}" && " $CHECK_STEPS " != *" $1 "* ]]; then return; fi
    step "$@"
}

case "$MODEL" in
    *.ckpt|*best.pt|*last.pt)
        step export "$PY" -m gaunt_md.cli export "$MODEL" -o "$OUT/model.pt" --dtype float64
        MODEL=$OUT/model.pt ;;
esac

case "$MODEL" in
    *.model) AS=(--mace "$MODEL"); CALC=(--calculator "$ROOT/benchmarks/mace_socket.py:calculator") ;;
    *)       AS=(--model "$MODEL"); CALC=() ;;
esac

check frames "$PY" "$ROOT/benchmarks/frame_errors.py" "$ROOT/examples/data/3bpa_hot/test_600_1200K.xyz" \
    "${AS[@]}" --group md_temperature_K --out "$OUT/frames"
check split "$PY" "$ROOT/benchmarks/frame_errors.py" "$TRAIN_DATA" "${AS[@]}" --split 50 123 --out "$OUT/split"
check scan "$PY" -m gaunt_md.cli scan "$MODEL" "${CALC[@]}" --out "$OUT/scan"
check scanref "$PY" "$ROOT/benchmarks/scan_reference.py" "${AS[@]}" --out "$OUT/scanref"
check distorted "$PY" "$ROOT/benchmarks/frame_errors.py" "$ROOT/examples/data/3bpa_distorted/round1.xyz" \
    "${AS[@]}" --group distort_kind --out "$OUT/distorted"

if [[ "$QUICK" != "--quick" ]]; then
    for seed in 0 1; do
        check "md_seed$seed" "$PY" -m gaunt_md.cli md-stability --model "$MODEL" "${CALC[@]}" --runs 4 --time-ps 1 \
            --seed "$seed" --out "$OUT/md_seed$seed" --no-progress
    done
    check nve600 "$PY" -m gaunt_md.cli md-stability --model "$MODEL" "${CALC[@]}" --ensemble nve --temperatures 600 \
        --runs 2 --time-ps 1 --out "$OUT/nve600" --no-progress
fi

if (( ${#failed[@]} )); then
    echo "failed: ${failed[*]}"; exit 1
fi
echo "all checks passed"
