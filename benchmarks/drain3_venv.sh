#!/usr/bin/env bash
# A separate environment for drain3 (it pins jsonpickle 1.5.1, which Beam cannot live with; see
# shared/notes/dependencies.md). `benchmarks/logs.py` uses it, when present, to compare the
# grouping accuracy of drain3 with our own Drain on the same labelled lines.
set -euo pipefail
VENV=${DRAIN3_VENV:-/tmp/drain3-venv}
PYTHON=${PYTHON:-python3.11}
if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "drain3==0.9.11"
"$VENV/bin/python" -c "import drain3; print('drain3 ready in $VENV')"
