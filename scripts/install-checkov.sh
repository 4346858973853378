#!/usr/bin/env bash
# Install checkov into its own virtualenv at .tools/checkov (git-ignored).
#
# checkov pins many dependencies (boto3, pydantic, ...) that conflict with the
# suite's own environment (boto3/moto), so it never goes into the main venv.
# Idempotent: does nothing when the pinned version is already installed.
#
#   scripts/install-checkov.sh            # install / verify
#   CHECKOV_VERSION=3.3.30 scripts/install-checkov.sh
#   .tools/checkov/bin/checkov --version
set -euo pipefail

CHECKOV_VERSION="${CHECKOV_VERSION:-3.3.30}"
PYTHON="${PYTHON:-python3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CHECKOV_VENV:-$ROOT/.tools/checkov}"
BIN="$VENV/bin/checkov"

if [[ -x "$BIN" ]] && [[ "$("$BIN" --version 2>/dev/null | tail -n 1)" == "$CHECKOV_VERSION" ]]; then
  echo "checkov $CHECKOV_VERSION already installed at $BIN"
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
fi

"$VENV/bin/python" -m pip install --quiet "checkov==$CHECKOV_VERSION"

echo "installed checkov $("$BIN" --version 2>/dev/null | tail -n 1) at $BIN"
