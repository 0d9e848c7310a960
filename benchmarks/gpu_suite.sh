#!/usr/bin/env bash
# The GPU checks and timings in one go (4 minutes on an H200 with SUITE_SCALE=0.7), run from the
# repository root:
#
#   OUT=/some/dir bash benchmarks/gpu_suite.sh
#
# 0. wheels: .whl/*.whl (gaunt-md's missing needs: ase, vesin, e3nn >= 0.5.1) are installed with
#    pip --target into /tmp/site, .whl-mace/*.whl (mace-torch 0.3.16, e3nn 0.4.4, lmdb, orjson,
#    torch-ema, prettytable, matscipy, configargparse, GitPython, gitdb, smmap, wcwidth,
#    python-hostlist; + ase from .whl) into /tmp/mace, when those folders exist (a bare GPU
#    machine without registry access: carry them, see benchmarks/README.md);
# 1. correctness: the compiled Triton routes against the PyTorch routes on the GPU
#    (tests/ops/test_triton_routes_cuda.py);
# 2. gpu_bench.py gaunt: the shipped potential, energy + forces, float32 and float64, 3BPA and
#    1k..50k-atom boxes, Triton vs PyTorch routes (and each op alone on Triton), a profile at 10k;
# 3. gpu_bench.py mace: mace-torch MACE of the same size (e3nn), same systems, same timing;
# 4. gpu_bench.py md: ASE MD with GauntCalculator on the GPU, 3BPA and a 10k-atom box;
# then one table (gpu_bench.py table).  Files under $OUT: suite.log, tests.log, gaunt.json,
# mace.json, md.json, tables.md.
#
# Environment: OUT (default benchmarks/results/gpu), PYTHON (default python3), SIZES (default
# "3bpa 1000 5000 10000 20000 50000"), DEVICE (default cuda; cpu for a dry run), SUITE_SCALE
# (multiplies every time limit, default 1), MACE_VARIANTS (default e3nn; add cueq where
# cuequivariance_torch is installed), MD_STEPS, BOX_STEPS, WHEELS=0 (install none), SITE and
# MACE_SITE (where they go, default /tmp/site and /tmp/mace), PARTS (default "tests gaunt mace md"),
# GAUNT_ROUTES (default "triton torch conv-triton fp-triton"), MD_WARMUP (default 10).
set -u
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${OUT:-benchmarks/results/gpu}
DEVICE=${DEVICE:-cuda}
SIZES=${SIZES:-3bpa 1000 5000 10000 20000 50000}
SCALE=${SUITE_SCALE:-1}
MACE_VARIANTS=${MACE_VARIANTS:-e3nn}
MD_STEPS=${MD_STEPS:-100}
BOX_STEPS=${BOX_STEPS:-10}
MD_WARMUP=${MD_WARMUP:-10}
PARTS=" ${PARTS:-tests gaunt mace md} "
GAUNT_ROUTES=${GAUNT_ROUTES:-triton torch conv-triton fp-triton}
has() { case "$PARTS" in *" $1 "*) return 0;; esac; return 1; }
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
lim() { awk -v a="$1" -v s="$SCALE" 'BEGIN { printf "%d", a * s }'; }
SITE=${SITE:-/tmp/site} MACE_SITE=${MACE_SITE:-/tmp/mace}
if [ -d .whl ] && [ "${WHEELS:-1}" = 1 ]; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl
fi
if [ -d .whl-mace ] && [ "${WHEELS:-1}" = 1 ]; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$MACE_SITE" \
        .whl-mace/*.whl $(ls .whl/ase-*.whl 2>/dev/null)
fi
GAUNT_PATH="$PWD:$SITE${PYTHONPATH:+:$PYTHONPATH}"
MACE_PATH="$MACE_SITE${PYTHONPATH:+:$PYTHONPATH}"
B=benchmarks/gpu_bench.py

{
echo "== gpu_suite $(date -u +%FT%TZ) git $(git rev-parse --short HEAD 2>/dev/null) $(git status --short 2>/dev/null | wc -l) files changed"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader 2>/dev/null
PYTHONPATH="$GAUNT_PATH" "$PYTHON" -c "
import torch, triton, e3nn, ase, vesin
print('gaunt side: torch', torch.__version__, 'cuda', torch.version.cuda, 'triton', triton.__version__,
      'e3nn', e3nn.__version__, 'ase', ase.__version__, 'vesin', vesin.__version__,
      torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')
import gaunt_md, gaunt_md.nn; print('gaunt_md imports')" 2>&1 | tail -3
PYTHONPATH="$MACE_PATH" TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 "$PYTHON" -c "
import e3nn, mace; print('mace side: mace', mace.__version__, 'e3nn', e3nn.__version__)" 2>&1 | tail -2

if [ "$DEVICE" = cuda ] && has tests; then
    echo; echo "== GPU correctness (tests)"
    PYTHONPATH="$GAUNT_PATH" timeout -k 10 "$(lim 150)" "$PYTHON" -m pytest -q -p no:cacheprovider \
        tests/ops/test_triton_routes_cuda.py > "$OUT/tests.log" 2>&1
    echo "tests exit $?"; tail -4 "$OUT/tests.log"
fi

if has gaunt; then
echo; echo "== gaunt (Triton vs PyTorch routes)"
PYTHONPATH="$GAUNT_PATH" timeout -k 10 "$(lim 210)" "$PYTHON" $B gaunt --device "$DEVICE" --sizes $SIZES \
    --routes $GAUNT_ROUTES --time-limit "$(lim 150)" --profile --out "$OUT/gaunt.json" 2>&1 | grep -v Warning | cut -c1-400
echo "gaunt exit ${PIPESTATUS[0]}"
fi

if has mace; then
echo; echo "== mace-torch"
PYTHONPATH="$MACE_PATH" TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 timeout -k 10 "$(lim 110)" "$PYTHON" $B mace \
    --device "$DEVICE" --sizes $SIZES --mace-variants $MACE_VARIANTS --time-limit "$(lim 80)" \
    --out "$OUT/mace.json" 2>&1 | grep -v -i warn | grep -v "return visitor" | cut -c1-400
echo "mace exit ${PIPESTATUS[0]}"
fi

if has md; then
echo; echo "== MD (ASE)"
PYTHONPATH="$GAUNT_PATH" timeout -k 10 "$(lim 90)" "$PYTHON" $B md --device "$DEVICE" --routes triton torch \
    --steps "$MD_STEPS" --box-steps "$BOX_STEPS" --md-warmup "$MD_WARMUP" --time-limit "$(lim 70)" \
    --out "$OUT/md.json" 2>&1 | grep -v -i warn | grep -v MaxwellBoltzmann | cut -c1-400
echo "md exit ${PIPESTATUS[0]}"
fi
echo "== done $(date -u +%FT%TZ)"
} 2>&1 | tee "$OUT/suite.log"
PYTHONPATH="$GAUNT_PATH" "$PYTHON" $B table "$OUT/gaunt.json" "$OUT/mace.json" "$OUT/md.json" | tee "$OUT/tables.md"
