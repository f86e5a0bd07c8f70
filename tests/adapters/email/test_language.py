"""A mail's language from Content-Language, the script, or the words."""

from __future__ import annotations

import pytest

from adapters.email.language import detect_language

SENTENCES = [
    ("Dobrý den, nemohu se přihlásit", "cs"),
    ("Dobry den, nemohu se prihlasit do aplikace", "cs"),  # no diacritics, clear words
    ("Olá, não consigo entrar", "pt"),
    ("Ola, nao consigo entrar na minha conta", "pt"),
    ("Hello, I cannot log in", "en"),
    ("Preciso de ajuda com a fatura de dezembro", "pt"),
    ("Prosím o pomoc s fakturou za prosinec", "cs"),
    ("سلام، نمی‌توانم وارد حساب کاربری شوم", "fa"),
    ("سلام", "fa"),  # the script says it, however short
    ("Здравствуйте, не могу войти", "ru"),
    ("OK", None),
    ("", None),
    ("12345 !!! ???", None),
    ("Hello", None),  # too short to judge
]


@pytest.mark.parametrize(("text", "expected"), SENTENCES)
def test_language_from_the_text(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


def test_a_short_thanks_is_czech_or_unknown() -> None:
    assert detect_language("Díky") in (None, "cs")


def test_the_script_wins_by_majority() -> None:
    assert detect_language("سلام، برنامه این خطا را نشان می‌دهد: Error 500 Internal") == "fa"
    assert detect_language("Не работает кнопка Save, пишет ошибку") == "ru"


@pytest.mark.parametrize(
    ("header", "expected"),
    [("cs-CZ", "cs"), ("pt-BR", "pt"), ("FA", "fa"), ("ru-RU, en", "ru"), ("en-US", "en"), ("de-DE", None)],
)
def test_the_text_first_then_content_language(header: str, expected: str | None) -> None:
    # Text too short to judge: the header names the language (one of another language says nothing).
    assert detect_language("", header) == expected
    assert detect_language("OK", header) == expected
    # Text that can be judged wins: mail programs write their own interface's language there.
    assert detect_language("Olá, não consigo entrar na minha conta", header) == "pt"
    assert detect_language("Dobrý den, nemohu se přihlásit do systému", header) == "cs"


def test_only_an_offered_language_counts() -> None:
    offered = ("fa", "cs")
    assert detect_language("Olá, não consigo entrar na minha conta", offered=offered) is None
    assert detect_language("Hello, I cannot log in to my account", "cs-CZ", offered) == "cs"
    assert detect_language("Dobrý den, nemohu se přihlásit do systému", "pt-BR", offered) == "cs"
    assert detect_language("سلام، نمی‌توانم وارد حساب کاربری شوم", offered=("cs",)) is None
    assert detect_language("", "fa-IR", offered) == "fa"
