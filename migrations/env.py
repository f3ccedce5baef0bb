"""Alembic environment: the connection comes from mou-tracker (config.attributes) or the URL option."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from mou_tracker.db.models import Base
from mou_tracker.db.types import ScaledDecimal

config = context.config
target_metadata = Base.metadata


def compare_type(ctx, inspected_column, metadata_column, inspected_type, metadata_type):  # noqa: ANN001
    # ScaledDecimal is a scaled BIGINT on SQLite and NUMERIC(p, s) on PostgreSQL; compare what it becomes.
    if isinstance(metadata_type, ScaledDecimal):
        impl = metadata_type.load_dialect_impl(ctx.dialect)
        if ctx.dialect.name == "sqlite":
            return type(inspected_type).__name__.upper() not in ("BIGINT", "INTEGER")
        return (getattr(inspected_type, "precision", None), getattr(inspected_type, "scale", None)) != (
            impl.precision,
            impl.scale,
        )
    return None  # the default comparison


def _configure(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=compare_type,
        compare_server_default=False,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.begin() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run them against a database")
run_migrations_online()
