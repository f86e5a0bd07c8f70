"""`/agent kb …` in the console: the agents' core's answer as plain text."""

from __future__ import annotations

from pathlib import Path

from adapters.console.agent import AgentConsole
from core.domain.config import HelpdeskConfig
from core.services import Services
from core.storage.db import Database
from tests.conftest import FakeClock
from tests.core.kb_samples import sample_kb


async def test_agent_kb_in_the_console(db: Database, config: HelpdeskConfig, clock: FakeClock, tmp_path: Path) -> None:
    services = Services.build(db, config, clock, knowledge=sample_kb())
    customer = await services.customers.customer("console", "me", "me", "Me", "cs")
    await services.customers.set_locale(customer.id, "cs")
    ticket = await services.tickets.open_ticket(customer.id, department="technical", request_type="bug",
                                                subject="Heslo", description="Nejde to.")
    console = AgentConsole(services)
    found = await console.handle(f"kb {ticket.number} heslo", "en")
    assert "reset-password — Obnovení hesla" in found and f"/agent kb send {ticket.number} reset-password" in found
    sent = await console.handle(f"kb send {ticket.number} reset-password", "en")
    assert sent == f"The article “Obnovení hesla” was sent to the customer of ticket #{ticket.number}."
    assert "Give a few words" in await console.handle("kb", "en")
