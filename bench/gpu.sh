#!/usr/bin/env bash
# The detector's CUDA path on an NVIDIA GPU machine, in one short run (well under 8 minutes):
# torch fp16 and a TensorRT engine (when tensorrt is installed there), batch 1/8/32/64, frames/s, GPU memory,
# per-class counts against the CPU reference (torch fp32) on the same frames. Needs wheels/ from
# bench/gpu_prepare.sh (the GPU machine has torch, torchvision, onnxruntime, OpenCV, no ultralytics, no network).
#   bench/gpu.sh [OUT_DIR]          # prints JSON lines; writes OUT_DIR/gpu.json (default: $OUT or .)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${1:-${OUT:-.}}
[ -d wheels ] || { echo "wheels/ missing: run bench/gpu_prepare.sh first (where PyPI is reachable)"; exit 2; }
SITE=$(mktemp -d)
python -m pip install --quiet --no-index --no-deps --target "$SITE" \
  $(ls wheels/*.whl | grep -v -e '/onnx-' -e '/PyYAML-' -e '/pyyaml-') \
  $(python - <<'PY'
import glob, sys
tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
print(" ".join(w for w in glob.glob("wheels/*.whl") if f"-{tag}-" in w and ("onnx-" in w or "yaml" in w.lower())))
PY
)
export PYTHONPATH="$SITE:$PWD" YOLO_OFFLINE=1 YOLO_AUTOINSTALL=false YOLO_CONFIG_DIR="$SITE/.yolo"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
timeout 450 python bench/gpu_bench.py --weights wheels/yolo11n.pt --reference wheels/cpu_reference.json \
  --out "$OUT_DIR/gpu.json"
