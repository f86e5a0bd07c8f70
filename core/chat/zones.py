"""`/timezone`: the customer's own time zone, shown, chosen from a few likely ones by button,
or typed as a city or an IANA name. Times are then shown in it (core.chat.views.customer_zone);
business hours keep following the department's calendar."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

from core.chat import actions as act
from core.chat.messages import Choice, Reply
from core.chat.views import customer_zone
from core.domain.clock import Clock
from core.domain.config import HelpdeskConfig
from core.domain.zones import known_zones
from core.i18n import Translator
from core.services import Services
from core.storage.models import Customer
from core.timezones import LIKELY, find_zone

EXAMPLE = "/timezone Berlin"


class ZoneFlow:
    def __init__(self, services: Services, config: HelpdeskConfig, clock: Clock) -> None:
        self.services = services
        self.config = config
        self.clock = clock

    def current(self, t: Translator, customer: Customer) -> ZoneInfo:
        # Outside a ticket there is no department: the first one's zone is the last resort.
        return customer_zone(self.config, t, customer, self.config.departments[0].code)

    def prompt(self, t: Translator, customer: Customer) -> Reply:
        zone, now = self.current(t, customer), self.clock()
        text = "\n".join([
            t._("Your time zone: {zone}. Your time now: {now}.", zone=t.zone(zone, now),
                now=t.datetime(now, zone, with_zone=False)),
            t._("Choose another one below, or type the name of a city, for example: {example}", example=EXAMPLE),
        ])
        names = list(dict.fromkeys([*LIKELY.get(t.locale, LIKELY["en"]), zone.key]))
        buttons = [Choice(act.SetZone(name).encode(), _mark(t.zone(ZoneInfo(name), now), name == zone.key))
                   for name in names if name in known_zones()]
        rows = tuple(tuple(buttons[i:i + 2]) for i in range(0, len(buttons), 2))
        return Reply(text, rows, t.locale)

    async def typed(self, t: Translator, customer: Customer, typed: str) -> list[Reply]:
        """`/timezone` with or without a name."""
        if not typed:
            return [self.prompt(t, customer)]
        name = await asyncio.to_thread(find_zone, typed)  # the first look-up reads every zone's names
        if name is None:
            return [Reply(t._("We could not find a time zone called “{name}”. Please type the name of a city, "
                              "for example: {example}, or choose one below.", name=typed[:64], example=EXAMPLE),
                          locale=t.locale), self.prompt(t, customer)]
        return await self.choose(t, customer, name)

    async def choose(self, t: Translator, customer: Customer, name: str) -> list[Reply]:
        if name not in known_zones():  # a button of a zone this system no longer has
            return [self.prompt(t, customer)]
        await self.services.customers.set_timezone(customer.id, name)
        customer.timezone = name
        zone, now = ZoneInfo(name), self.clock()
        return [Reply(t._("Done: from now on we show you times in this time zone: {zone}. Your time now: {now}.",
                          zone=t.zone(zone, now), now=t.datetime(now, zone, with_zone=False)), locale=t.locale)]


def _mark(label: str, chosen: bool) -> str:
    return f"{label} ✓" if chosen else label
