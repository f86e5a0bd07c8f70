"""The e-mail channel's options in the configuration: each mistake named by its key."""

from __future__ import annotations

import pytest

from adapters.email.options import options
from bot.bootstrap import check_channel_keys
from core.domain.config import ConfigError, HelpdeskConfig


def _with(config: HelpdeskConfig, channels: dict[str, dict[str, object]] | None = None,
          addresses: dict[int, dict[str, list[str]]] | None = None) -> HelpdeskConfig:
    departments = [d.model_copy(update={"addresses": (addresses or {}).get(i, {})})
                   for i, d in enumerate(config.departments)]
    return config.model_copy(update={"channels": channels or {}, "departments": departments})


def test_defaults_and_claims(config: HelpdeskConfig) -> None:
    chosen = options(_with(config, addresses={1: {"email": ["Billing@Example.com", "support+billing@example.com"]}}))
    assert chosen.default_department is None and chosen.request_type is None
    assert chosen.quarantine_folder == "Quarantine"
    assert chosen.claims == {"billing@example.com": config.departments[1].code,
                             "support+billing@example.com": config.departments[1].code}


@pytest.mark.parametrize(("channels", "addresses", "said"), [
    ({"email": {"default_department": "nope"}}, None, "default_department: 'nope' is not a department's code"),
    ({"email": {"request_type": "nope"}}, None, "request_type: 'nope' is not a request type's code"),
    ({"email": {"folder": "x"}}, None, "[channels.email] folder: unknown key"),
    (None, {0: {"email": ["not-an-address"]}}, "email_addresses: 'not-an-address' is not an address"),
    (None, {0: {"email": ["a@example.com"]}, 1: {"email": ["A@example.com"]}}, "is claimed by"),
])
def test_mistakes_are_named(config: HelpdeskConfig, channels: dict[str, dict[str, object]] | None,
                            addresses: dict[int, dict[str, list[str]]] | None, said: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_channel_keys(_with(config, channels, addresses))
    assert said in str(info.value)


def test_ask_is_a_default_department(config: HelpdeskConfig) -> None:
    assert options(_with(config, {"email": {"default_department": "ask"}})).default_department == "ask"


def test_unknown_channels_are_named(config: HelpdeskConfig) -> None:
    with pytest.raises(ConfigError, match=r"\[channels.fax\]: unknown channel"):
        check_channel_keys(_with(config, {"fax": {}}))
    with pytest.raises(ConfigError, match="fax_addresses: unknown key"):
        check_channel_keys(_with(config, addresses={0: {"fax": ["a@b.c"]}}))


def test_the_toml_spelling_is_read(tmp_path: object) -> None:
    from pathlib import Path

    from core.domain.config import DEFAULT_CONFIG, load_config

    text = DEFAULT_CONFIG.read_text(encoding="utf-8").replace(
        'code = "billing"', 'code = "billing"\nemail_addresses = ["billing@example.com"]', 1)
    text = text.replace('# default_department = "technical"', 'default_department = "ask"')
    path = Path(str(tmp_path)) / "c.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    assert options(config).claims == {"billing@example.com": "billing"}
    assert options(config).default_department == "ask" and options(config).request_type == "consultation"
