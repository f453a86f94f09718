"""Persistence: schema, migrations, repositories, outbox and the unit of work."""

from gateway.store.engine import make_engine
from gateway.store.unit_of_work import Store, UnitOfWork

__all__ = ["Store", "UnitOfWork", "make_engine"]
