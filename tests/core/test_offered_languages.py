"""The languages a deployment offers: the `languages` key, and names required only in those."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.domain.config import DEFAULT_CONFIG, LANGUAGES, ConfigError, load_config
from core.domain.languages import Names

BASE = DEFAULT_CONFIG.read_text(encoding="utf-8")


def only(languages: list[str], text: str = BASE) -> str:
    """The default configuration offering `languages`, its names given in those alone."""
    def keep(match: re.Match[str]) -> str:
        pairs = re.findall(r'(\w+) = ("[^"]*")', match.group(1))
        return "name = { " + ", ".join(f"{k} = {v}" for k, v in pairs if k in languages) + " }"

    listed = ", ".join(f'"{code}"' for code in languages)
    return f"languages = [{listed}]\n" + re.sub(r"name = \{(.*)\}", keep, text)


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "helpdesk.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_names_are_required_only_in_the_offered_languages(tmp_path: Path) -> None:
    config = _load(tmp_path, only(["fa", "cs"]))
    assert config.languages == ("fa", "cs")
    billing = config.department("billing")
    assert billing is not None and billing.name.en is None
    assert billing.name.get("cs") == "Fakturace a platby"
    # Agents reading English or Russian get the deployment's default language, not an error.
    assert billing.name.get("en") == billing.name.get("ru") == billing.name.get("fa") != "Fakturace a platby"


def test_a_name_in_a_language_not_offered_may_stay(tmp_path: Path) -> None:
    config = _load(tmp_path, 'languages = ["cs"]\n' + BASE)
    billing = config.department("billing")
    assert billing is not None and billing.name.get("en") == "Billing"
    assert billing.name.get("xx") == "Fakturace a platby"


def test_a_missing_name_in_an_offered_language_names_its_key(tmp_path: Path) -> None:
    text = only(["fa", "cs"]).replace(', cs = "Fakturace a platby"', "", 1)
    assert "Fakturace" not in text
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    assert str(info.value).splitlines()[1:] == ["  departments.billing.name.cs: required key is missing"]


@pytest.mark.parametrize(("value", "problem"), [
    ("[]", "languages: offer at least one language: en, fa, cs, ru, pt"),
    ('["fa", "de"]', "languages: unknown language 'de'; use en, fa, cs, ru, pt"),
    ('["fa", "cs", "fa"]', "languages: 'fa' listed more than once"),
    ('"fa"', "languages: Input should be a valid tuple"),
])
def test_a_wrong_list_of_languages_is_refused(tmp_path: Path, value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, f"languages = {value}\n" + BASE)
    assert f"  {problem}" in str(info.value).splitlines()


def test_without_the_key_every_language_is_offered_the_given_default_first(tmp_path: Path) -> None:
    assert load_config().languages == LANGUAGES
    assert load_config(default_language="cs").languages == ("cs", "en", "fa", "ru", "pt")
    assert _load(tmp_path, 'languages = ["pt"]\n' + BASE).languages == ("pt",)  # the file's own list wins
    path = tmp_path / "helpdesk.toml"
    assert load_config(path, default_language="fa").languages == ("pt",)


def test_a_name_needs_some_language() -> None:
    with pytest.raises(ValueError, match="at least one language"):
        Names()
    assert Names(ru="Срочный").get("en") == "Срочный"
