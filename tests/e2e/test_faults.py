"""The fault matrix of issue 16 as tests: every row counts each published frame exactly once (bench/faults.py).

Slow (about 20 minutes for every row): ``pytest -m slow tests/e2e/test_faults.py``. Each row brings up its own
stream, topics and worker processes on this module's runtime, which the broker and Postgres rows stop and start.
"""

from __future__ import annotations

import pytest

from tests.conftest import make_runtime
from tests.e2e.fault_matrix import NAMES, run_row, slug


@pytest.fixture(scope="module")
def fault_runtime(tmp_path_factory):
    with make_runtime(tmp_path_factory.mktemp("faults") / "data") as settings:
        yield settings


@pytest.mark.slow
@pytest.mark.parametrize("fault", NAMES, ids=[slug(n) for n in NAMES])
def test_every_published_frame_is_counted_once(fault_runtime, tmp_path, fault) -> None:
    row = run_row(fault_runtime, fault, tmp_path)
    print(row.as_dict())
    assert row.published >= 40, row
    assert (row.counted, row.duplicates, row.missing, row.late) == (row.published, 0, 0, 0), row
    assert row.sessions == 1 or not fault.startswith("three"), "scheduled runs continue one session"
