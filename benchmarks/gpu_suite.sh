#!/usr/bin/env bash
# The GPU benchmarks in one go (~7 minutes on an H100), run from the repository root:
#
#   MACE_PYTHON=/path/python MACE_PYTHONPATH=/path/mace-target OUT=/some/dir bash benchmarks/gpu_suite.sh
#
# 0. correctness first: the compiled Triton routes against the PyTorch routes on the GPU
#    (tests/ops/test_triton_routes_cuda.py, test_many_body.py's CUDA cases; ~1 minute);
# 1. model_speed.py --device cuda: Gaunt-MACE (PyTorch path, gaunt_method=grid; the Triton
#    path; the factor product basis of the shipped potential with its Triton kernels and with
#    the PyTorch route) against mace-torch MACE with e3nn and converted to cuEquivariance,
#    float32 then float64, 3BPA and 1k/5k/10k-atom boxes;
# 2. symmetric_contraction.py --device cuda: the many-body product against MACE's
#    SymmetricContraction (e3nn and cuequivariance_torch), float32, L = 2..4 (MACE to L = 3);
# 3. factor_products.py --device cuda: the factor basis's products alone, plain autograd vs the
#    op's PyTorch route vs its Triton kernels, float32, 1k to 20k nodes.
#
# Environment:
#   PYTHON           interpreter with gaunt-md, a CUDA torch and triton (default .venv/bin/python,
#                    else python3)
#   MACE_PYTHON      interpreter for the MACE workers (default: $PYTHON; without it and without
#                    MACE_PYTHONPATH the scripts would create benchmarks/.mace-venv, which needs internet)
#   MACE_PYTHONPATH  folder with mace-torch 0.3.16 + e3nn 0.4.4 + lmdb + orjson (mace.data imports them) (+ cuequivariance, cuequivariance_torch,
#                    cuequivariance_ops_torch_cu12) installed by `pip install --target`; put first on
#                    PYTHONPATH of the MACE workers only (do NOT export it as PYTHONPATH: gaunt-md needs
#                    e3nn >= 0.5.1)
#   OUT              where the results go (default benchmarks/results/gpu): 6 files (3 JSON, 3 PNG)
#                    plus suite.log
#   SUITE_SECONDS    scale of the time limits (default 420)
#   DEVICE, SIZES    only for a dry run elsewhere (defaults cuda and "3bpa 1000 5000 10000")
set -u
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
MACE_PYTHON=${MACE_PYTHON:-$PYTHON}
OUT=${OUT:-benchmarks/results/gpu}
TOTAL=${SUITE_SECONDS:-420}
DEVICE=${DEVICE:-cuda}
read -r -a SIZES <<< "${SIZES:-3bpa 1000 5000 10000}"
mkdir -p "$OUT"
LOG="$OUT/suite.log"
MACE_ARGS=(--mace-python "$MACE_PYTHON")
[ -n "${MACE_PYTHONPATH:-}" ] && MACE_ARGS+=(--mace-pythonpath "$MACE_PYTHONPATH")

# time shares: model speed ~55 %, symmetric contraction ~25 %, factor products ~10 %; the first
# two stop starting new points at their --time-limit and report; `timeout -s INT` makes them
# report what they have, KILL 15 s later
MS_LIMIT=$((TOTAL * 45 / 100)); MS_HARD=$((TOTAL * 55 / 100))
SC_LIMIT=$((TOTAL * 18 / 100)); SC_HARD=$((TOTAL * 25 / 100))
FP_HARD=$((TOTAL * 10 / 100))

{
echo "== gpu_suite $(date -u +%FT%TZ) git $(git rev-parse --short HEAD 2>/dev/null)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null
"$PYTHON" -c "import torch; print('gaunt side: torch', torch.__version__, 'cuda', torch.version.cuda,
                                  torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')"
PYTHONPATH="${MACE_PYTHONPATH:-}${PYTHONPATH:+:$PYTHONPATH}" TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 "$MACE_PYTHON" -c "
import torch, e3nn, mace
print('mace side: torch', torch.__version__, 'mace', mace.__version__, 'e3nn', e3nn.__version__)
try:
    import cuequivariance_torch as cuet; print('cuequivariance_torch', cuet.__version__)
except Exception as exc: print('cuequivariance_torch not importable:', exc)
" 2>&1 | tail -4

if [ "$DEVICE" = cuda ]; then
    echo; echo "== GPU correctness (tests)"
    timeout -k 15 180 "$PYTHON" -m pytest -q -p no:cacheprovider tests/ops/test_triton_routes_cuda.py \
        tests/ops/test_many_body.py 2>&1 | tail -15
    echo "tests exit ${PIPESTATUS[0]}"
fi

echo; echo "== model_speed (limit ${MS_LIMIT} s)"
timeout -s INT -k 15 "$MS_HARD" "$PYTHON" benchmarks/model_speed.py --device "$DEVICE" \
    --dtypes float32 float64 --sizes "${SIZES[@]}" \
    --models gaunt gaunt-triton gaunt-factors gaunt-factors-torch mace mace-cueq --gaunt-method grid "${MACE_ARGS[@]}" \
    --repeats 3 --min-sample 0.2 --budget 5 --max-call 5 --timeout 120 --mem-limit 60 \
    --time-limit "$MS_LIMIT" --out-dir "$OUT"
echo "model_speed exit $?"

echo; echo "== symmetric_contraction (limit ${SC_LIMIT} s)"
timeout -s INT -k 15 "$SC_HARD" "$PYTHON" benchmarks/symmetric_contraction.py --device "$DEVICE" \
    --dtype float32 --lmin 2 --lmax 4 --mace-lmax 3 --batch 4096 --methods grid triton --cueq "${MACE_ARGS[@]}" \
    --repeats 3 --min-sample 0.1 --budget 3 --max-call 5 --timeout 60 \
    --time-limit "$SC_LIMIT" --out-dir "$OUT"
echo "symmetric_contraction exit $?"

echo; echo "== factor_products (limit ${FP_HARD} s)"
timeout -k 15 "$FP_HARD" "$PYTHON" benchmarks/factor_products.py --device "$DEVICE" \
    --dtype float32 --nodes 1000 5000 20000 --repeats 3 --out-dir "$OUT"
echo "factor_products exit $?"
echo "== done $(date -u +%FT%TZ)"
} 2>&1 | tee "$LOG"
