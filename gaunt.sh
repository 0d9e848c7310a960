#!/usr/bin/env bash
# gaunt-md project commands.  Each one does the whole set-up first (idempotent, fast when done):
#   ./gaunt.sh setup            create .venv, install torch's CPU build, then gaunt-md and its extras
#   ./gaunt.sh md [ARGS...]     python examples/md_3bpa.py ARGS (the 3BPA MD stability runs)
#   ./gaunt.sh test [ARGS...]   the test suite (pytest ARGS)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY=${PYTHON:-python3}
TORCH_VERSION=2.13.0

setup() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "[gaunt-md] creating $VENV"
        "$PY" -m venv "$VENV"
    fi
    local stamp="$VENV/.gaunt-md-setup"
    local want
    want=$(cat pyproject.toml gaunt.sh | sha256sum | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VENV/bin/python" -c "import gaunt_md" 2>/dev/null; then
        return 0
    fi
    echo "[gaunt-md] installing (torch $TORCH_VERSION CPU build first)"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    # torch first, pinned, so that nothing below pulls a multi-GB CUDA build
    "$VENV/bin/python" -m pip install --quiet "torch==$TORCH_VERSION"
    # GAUNT_MD_BUILD_LAMMPS=1: a LAMMPS plugin that fails to build is an error here, not a warning
    GAUNT_MD_BUILD_LAMMPS=1 "$VENV/bin/python" -m pip install --quiet -e ".[test,triton,lammps,label]"
    echo "$want" > "$stamp"
}

cmd=${1:-help}
shift || true
case "$cmd" in
    setup) setup ;;
    md)    setup; exec "$VENV/bin/python" examples/md_3bpa.py "$@" ;;
    test)  setup; exec "$VENV/bin/python" -m pytest "$@" ;;
    *)     sed -n '2,6p' "$0"; exit 1 ;;
esac
