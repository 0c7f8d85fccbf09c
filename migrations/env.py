"""Alembic environment: runs against the engine the portal's CLI hands over."""

from contextlib import nullcontext

from alembic import context
from sqlalchemy.engine import Engine

import portal.models  # noqa: F401  (registers every table on Base.metadata)
from portal.db import Base

config = context.config


def run_migrations() -> None:
    bind = config.attributes["bind"]
    # Given a connection (inside a caller's transaction) use it as it is; given an engine, open one.
    with bind.connect() if isinstance(bind, Engine) else nullcontext(bind) as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
