"""A generated month of a help desk's work, written straight into a database: tickets opened
every day (fewer at weekends), most answered within the SLA and some late, most resolved, ratings,
articles shown and tickets they spared, time logged by agents whose names are in five scripts.

`await fill_month(db, config, date(2026, 11, 1))` fills one; the figures it wrote come back, so
that a test can check the report against them. Seeded: the same month every time."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from core.domain.config import HelpdeskConfig
from core.storage.db import Database
from core.storage.models import Agent, ArticleEvent, Customer, Organisation, Rating, Ticket, TimeEntry

AGENTS = ("Eva Nováková", "Дмитрий Орлов", "João Conceição", "سارا احمدی", "Tom Baker")
SUBJECTS = ("Cannot log in", "Invoice missing", "Export fails", "Password reset", "Slow dashboard",
            "نمی‌توانم وارد شوم", "Nelze se přihlásit", "Не приходит счёт", "Erro ao exportar")


@dataclass
class Month:
    start: datetime
    end: datetime
    opened: Counter[date] = field(default_factory=Counter)  # per UTC day
    resolved: Counter[date] = field(default_factory=Counter)
    first_late: int = 0
    ratings: list[int] = field(default_factory=list)
    deflected: int = 0
    shown: int = 0
    minutes: Counter[str] = field(default_factory=Counter)  # per agent's name


async def fill_month(db: Database, config: HelpdeskConfig, first: date, days: int = 30, seed: int = 27) -> Month:
    rng = random.Random(seed)
    start = datetime.combine(first, time.min, UTC)
    month = Month(start, start + timedelta(days=days))
    departments = [d.code for d in config.departments]
    number = 1000
    async with db.write() as session:
        org = Organisation(name="Acme", sharing="none", created_at=start)
        session.add(org)
        agents = [Agent(platform="console", platform_user_id=f"a{i}", display_name=name, created_at=start)
                  for i, name in enumerate(AGENTS)]
        customers = [Customer(platform="console", platform_user_id=f"c{i}", chat_id=f"c{i}", display_name=f"C{i}",
                              locale="en", created_at=start) for i in range(40)]
        session.add_all([*agents, *customers])
        await session.flush()
        for customer in customers[:10]:
            customer.organisation_id = org.id
        for offset in range(days):
            day = first + timedelta(days=offset)
            weekend = day.weekday() >= 5
            for _ in range(rng.randint(2, 6) if weekend else rng.randint(10, 24)):
                number += 1
                hour = rng.randint(0, 23) if rng.random() < 0.2 else rng.randint(7, 15)  # mostly office hours
                created = datetime.combine(day, time(hour, rng.randint(0, 59)), UTC)
                ticket = Ticket(number=number, customer_id=rng.choice(customers).id,
                                department=rng.choice(departments), request_type=config.request_types[0].code,
                                priority="normal", subject=rng.choice(SUBJECTS), description="…", status="new",
                                created_at=created, updated_at=created)
                late = rng.random() < 0.15
                answered = created + timedelta(hours=rng.uniform(0.1, 3) if not late else rng.uniform(9, 30))
                if answered < month.end:
                    ticket.first_response_at = answered
                    ticket.status = "waiting"
                if late:
                    ticket.first_response_breached_at = created + timedelta(hours=8)
                    month.first_late += 1
                resolved = answered + timedelta(hours=rng.uniform(1, 72))
                if rng.random() < 0.85 and resolved < month.end:
                    ticket.resolved_at, ticket.status = resolved, "resolved"
                    month.resolved[resolved.date()] += 1
                    if rng.random() < 0.1:
                        ticket.resolution_breached_at = resolved - timedelta(hours=1)
                month.opened[day] += 1
                session.add(ticket)
                await session.flush()
                agent = rng.choice(agents)
                if ticket.resolved_at is not None and rng.random() < 0.45:
                    score = rng.choices((1, 2, 3, 4, 5), (1, 1, 2, 5, 8))[0]
                    session.add(Rating(ticket_id=ticket.id, agent_id=agent.id, score=score,
                                       rated_at=ticket.resolved_at + timedelta(hours=1)))
                    if ticket.resolved_at + timedelta(hours=1) < month.end:
                        month.ratings.append(score)
                if rng.random() < 0.6:
                    minutes = rng.choice((10, 15, 20, 30, 45, 60, 90))
                    session.add(TimeEntry(ticket_id=ticket.id, agent_id=agent.id, minutes=minutes,
                                          at=min(answered, month.end - timedelta(minutes=1))))
                    month.minutes[agent.display_name] += minutes
            for _ in range(rng.randint(3, 15)):
                at = datetime.combine(day, time(rng.randint(0, 23), rng.randint(0, 59)), UTC)
                kind = "deflected" if rng.random() < 0.3 else "shown"
                session.add(ArticleEvent(kind=kind, slug="reset-password", locale="en", source="form", at=at))
                month.deflected += kind == "deflected"
                month.shown += kind == "shown"
    return month
