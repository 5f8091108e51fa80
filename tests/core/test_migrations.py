"""The migrations build exactly the schema the models describe, and go down and up again.

Parallel branches each add a migration and a model; this catches a model without its migration (or a column
that differs) before a worker meets it at run time."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from core.db import migrate
from core.db.engine import get_engine
from core.db.models import Base
from core.settings import Settings


def _ours(obj, name, type_, reflected, compare_to) -> bool:
    """Only the models' tables: dbt builds its marts in the same database (other tests do, in this session)."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return not reflected or table is None or table.name in Base.metadata.tables


def test_migrated_schema_matches_the_models(runtime: Settings) -> None:
    with get_engine(runtime).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_object": _ours}), Base.metadata)
    assert diff == [], diff


def test_one_head_and_every_revision_reachable(runtime: Settings) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(runtime))
    heads = script.get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}; chain the new migration after the last one"
    assert migrate.current(runtime) == heads[0]
