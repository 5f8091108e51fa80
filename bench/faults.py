"""Fault matrix (issue 16): every published frame counted exactly once through crashes, outages and handovers.

    PYTHONPATH=$PWD python bench/faults.py                      # every row (about 20 minutes here)
    PYTHONPATH=$PWD python bench/faults.py --rows "none,broker restart"
    PYTHONPATH=$PWD python bench/faults.py --list

One row per fault, each on a live stream of its own (testsrc's bus scene as live HLS, read at 2 frames/s) through
the real ``streamscope reader``, ``detector`` and ``aggregator`` processes, the embedded broker and Postgres; how a
row is run and what its columns mean is in ``tests/e2e/fault_matrix.py``. Nothing is repaired by hand: a killed
worker is started again at once, alone; the broker is never restarted except in its own row. The same rows run as a
slow test: ``pytest -m slow tests/e2e/test_faults.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import make_runtime
from tests.e2e.fault_matrix import NAMES, Row, run_row

COLUMNS = ("published", "counted", "duplicates", "missing", "late", "detect_s", "count_s", "sessions", "people")


def print_table(rows: list[Row]) -> None:
    width = max(len(row.fault) for row in rows)
    print(f"{'fault':<{width}}  " + "  ".join(f"{c:>10}" for c in COLUMNS) + "  exact  note")
    for row in rows:
        figures = "  ".join(f"{'-' if getattr(row, c) is None else getattr(row, c):>10}" for c in COLUMNS)
        print(f"{row.fault:<{width}}  {figures}  {'yes' if row.exact else 'NO':>5}  {row.note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="", help="Comma-separated fault names (default: all; see --list).")
    parser.add_argument("--list", action="store_true", help="Print the rows' names and exit.")
    parser.add_argument("--keep", default="", help="Keep the runtime and the processes' logs under this folder.")
    args = parser.parse_args()
    if args.list:
        print("\n".join(NAMES))
        return
    names = [n.strip() for n in args.rows.split(",") if n.strip()] or NAMES
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        parser.error(f"unknown rows {unknown}; --list shows them")
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="streamscope-faults-"))
    cache = os.environ.get("STREAMSCOPE_MODEL_CACHE_DIR")
    rows: list[Row] = []
    with make_runtime(root / "data", **({"model_cache_dir": Path(cache)} if cache else {})) as settings:
        os.environ["STREAMSCOPE_DATA_DIR"] = str(settings.data_dir)
        from detector.model import Detector

        Detector(settings)  # the export every row's detector loads, built once outside the rows
        for name in names:
            started = time.time()
            row = run_row(settings, name, root / "logs")
            rows.append(row)
            print(json.dumps({**row.as_dict(), "seconds": round(time.time() - started),
                              "load_average": round(os.getloadavg()[0], 1)}), flush=True)
    print()
    print_table(rows)
    print(json.dumps({"rows": len(rows), "exact": sum(r.exact for r in rows), "logs": str(root / "logs")}))


if __name__ == "__main__":
    main()
