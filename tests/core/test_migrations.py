"""The migrations: each one can be undone, and at head they build exactly what the models say."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from core.services import Services
from core.storage.db import Database
from core.storage.migrate import current_revision, downgrade, head_revision, history, upgrade
from core.storage.models import Base, Customer, Ticket


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def _differences(db: Database) -> list[object]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: compare_metadata(
            MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata))


async def test_models_and_migrations_agree(db: Database) -> None:
    assert await _differences(db) == []


async def test_every_migration_can_be_undone(db: Database, service: Services) -> None:
    customer = await service.customers.customer("telegram", "5", "5", "Jana", "cs")
    await service.tickets.open_ticket(customer.id, department="technical", request_type="bug",
                              subject="Faktura", description="Chybí mi faktura.")
    # Down to the first revision with a ticket in the tables, and up again: the data survives.
    await downgrade(db, "0001")
    assert await current_revision(db) == "0001"
    await upgrade(db)
    second = await service.tickets.open_ticket(customer.id, department="technical", request_type="bug",
                                       subject="Faktura 2", description="Chybí mi další faktura.")
    assert second.number == 1002  # numbering goes on where it stood, on either backend
    async with db.read() as session:
        assert (await session.execute(select(Ticket.subject).order_by(Ticket.number))).scalars().all() \
            == ["Faktura", "Faktura 2"]
    # Every downgrade down to nothing, one step at a time, then the whole way up.
    revisions = [line.split(" -> ")[1].split()[0].rstrip(",") for line in history()]
    assert revisions[0] == head_revision() and len(revisions) == len(set(revisions))
    for below in [*revisions[1:], None]:
        await downgrade(db, below or "base")
        assert await current_revision(db) == below
    assert await _tables(db) <= {"alembic_version"}
    await upgrade(db)
    assert await current_revision(db) == head_revision()
    assert await _differences(db) == []


async def test_customer_timezone_comes_and_goes(db: Database, service: Services) -> None:
    customer = await service.customers.customer("telegram", "7", "7", "Dara", "fa")
    await service.customers.set_timezone(customer.id, "Asia/Kabul")
    await downgrade(db, "0012")
    async with db.engine.connect() as conn:
        columns = await conn.run_sync(lambda c: [col["name"] for col in inspect(c).get_columns("customers")])
    assert "timezone" not in columns
    await upgrade(db)
    async with db.read() as session:  # the customer is kept; the choice went with the column
        assert (await session.execute(select(Customer.locale, Customer.timezone))).one() == ("fa", None)
    await service.customers.set_timezone(customer.id, "Asia/Tehran")
    assert (await service.customers.customer("telegram", "7", "7")).timezone == "Asia/Tehran"
