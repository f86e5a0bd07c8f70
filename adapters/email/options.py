"""The e-mail channel's name, pace and options as the configuration gives them.

`[channels.email]` in the TOML file: `default_department` (a department's code, or "ask" to
ask the sender to pick one; the first department when unset), `request_type` (the type e-mail
tickets get where their department offers it; elsewhere, and when unset, the department's
first), `quarantine_folder` (where mail that cannot be handled is moved; "Quarantine" when
unset). A department claims support addresses with
`email_addresses = ["billing@example.com", "support+billing@example.com"]`.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.chat.letters import ASK
from core.delivery.contract import Pacing, pace_keys
from core.domain.config import ConfigError, Delivery, HelpdeskConfig

NAME = "email"
_KEYS = {"default_department", "request_type", "quarantine_folder"}


@dataclass(frozen=True, slots=True)
class Options:
    default_department: str | None
    request_type: str | None
    quarantine_folder: str
    claims: dict[str, str]  # a support address (lowercase) -> the department that claims it


def options(config: HelpdeskConfig) -> Options:
    """The channel's options, checked: ConfigError naming the key that is wrong."""
    given = config.channels.get(NAME, {})
    for key in given:
        if key not in _KEYS:
            raise ConfigError(f"[channels.{NAME}] {key}: unknown key (known: {', '.join(sorted(_KEYS))})")
    department = given.get("default_department")
    if department is not None and department != ASK and config.department(str(department)) is None:
        raise ConfigError(f"[channels.{NAME}] default_department: {department!r} is not a department's code "
                          f"(or {ASK!r} to ask the sender)")
    request_type = given.get("request_type")
    if request_type is not None and config.request_type(str(request_type)) is None:
        raise ConfigError(f"[channels.{NAME}] request_type: {request_type!r} is not a request type's code")
    folder = str(given.get("quarantine_folder") or "Quarantine")
    claims: dict[str, str] = {}
    for dep in config.departments:
        for address in dep.addresses.get(NAME, []):
            key = address.strip().lower()
            if "@" not in key:
                raise ConfigError(f"departments.{dep.code}.{NAME}_addresses: {address!r} is not an address")
            if key in claims and claims[key] != dep.code:
                raise ConfigError(f"departments.{dep.code}.{NAME}_addresses: {address!r} is claimed by "
                                  f"{claims[key]} too")
            claims[key] = dep.code
    return Options(str(department) if department else None, str(request_type) if request_type else None,
                   folder, claims)


def pacing(delivery: Delivery) -> Pacing:
    """A mail server takes mail as fast as it is given; `email_chat_interval_seconds` in
    [delivery] spaces the mails to one address (none by default)."""
    interval = pace_keys(delivery, NAME, {"chat_interval_seconds": 0.0})["chat_interval_seconds"]
    return Pacing(chat_interval=interval, group_interval=interval)
