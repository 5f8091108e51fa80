#!/usr/bin/env bash
# Build the AWS Lambda artifact build/lambda.zip: the project's base dependencies (API + core, no extras)
# as manylinux2014 x86_64 wheels for CPython 3.11, plus the `api` and `core` packages only.
# Fails when the package contains or imports torch, ultralytics, cv2 or pulsar, or when it unzips to more
# than 250 MB (Lambda's limit for a zip package).
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT="$PWD"
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo "$ROOT/.venv/bin/python" || command -v python3.11 )}"
BUILD=build/lambda-build
TARGET="$BUILD/package"
ZIP=build/lambda.zip
LIMIT_MB=250
FORBIDDEN="torch ultralytics cv2 pulsar pulsar_lite"

rm -rf "$BUILD" "$ZIP"
mkdir -p "$TARGET" "$BUILD/wheel"

# The project as a wheel (its own code), then everything for the Lambda platform from binary wheels only.
"$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$BUILD/wheel" .
# constraints.txt pins the same versions the tests ran with.
"$PYTHON" -m pip install --quiet --no-warn-conflicts --target "$TARGET" --platform manylinux2014_x86_64 \
    --implementation cp --python-version 3.11 --only-binary=:all: --upgrade -c constraints.txt \
    "$BUILD"/wheel/streamscope-*.whl
rm -rf build/bdist.* build/lib

# Only the API and what it imports: other components' packages never run on Lambda.
for package in stream_reader detector aggregator dbt_analytics dags; do
    rm -rf "${TARGET:?}/$package"
done
find "$TARGET" -name "__pycache__" -type d -prune -exec rm -rf {} +

status=0
for name in $FORBIDDEN; do
    if [ -e "$TARGET/$name" ] || compgen -G "$TARGET/${name}-*.dist-info" >/dev/null \
        || compgen -G "$TARGET/${name}.*" >/dev/null; then
        echo "error: the Lambda package contains $name" >&2
        status=1
    fi
done

# Import the handler from the package alone (isolated from this machine's site-packages) and list what loaded.
"$PYTHON" -I -S - "$TARGET" "$FORBIDDEN" <<'PY' || status=1
import sys
target, forbidden = sys.argv[1], sys.argv[2].split()
sys.path[:0] = [target]
import api.lambda_handler  # noqa: F401
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(forbidden))
if loaded:
    sys.exit(f"error: importing the handler loads {', '.join(loaded)}")
print("handler imports cleanly:", api.lambda_handler.handler.__class__.__name__)
PY

# Zip with Python's zipfile (no zip binary needed); entries are relative to the package root.
(cd "$TARGET" && "$PYTHON" -m zipfile -c "$ROOT/$ZIP" ./*)

"$PYTHON" - "$TARGET" "$ZIP" "$LIMIT_MB" <<'PY' || status=1
import os, sys
target, zip_path, limit_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
unzipped = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(target) for f in files)
print(f"{zip_path}: {os.path.getsize(zip_path) / 2**20:.1f} MB zipped, {unzipped / 2**20:.1f} MB unzipped "
      f"(Lambda's limit: {limit_mb} MB unzipped)")
if unzipped >= limit_mb * 2**20:
    sys.exit(f"error: the unzipped package is over {limit_mb} MB")
PY
exit $status
