"""The search: inflected forms (Czech, Russian), Persian letter and digit variants and
zero-width joiners, Portuguese without accents; the department filter; nothing to search."""

from __future__ import annotations

import pytest

from core.knowledge import Article, KnowledgeBase
from core.knowledge.plain import pieces, plain

ARTICLES = [
    Article("reset-password", "cs", "Zapomenuté heslo", "Nové heslo si nastavíte odkazem v e-mailu.", ("technical",)),
    Article("invoices", "cs", "Faktury", "Fakturu stáhnete v nastavení účtu.", ("billing",)),
    Article("reset-password", "ru", "Восстановление пароля", "Новый пароль задаётся по ссылке из письма.",
            ("technical",)),
    Article("invoices", "ru", "Счета", "Счёт можно скачать в настройках.", ("billing",)),
    Article("reset-password", "fa", "بازیابی رمز عبور", "رمز تازه را با پیوند ایمیل تعیین کنید.", ("technical",)),
    Article("invoices", "fa", "صورت‌حساب‌ها", "صورت‌حساب‌های شما در تنظیمات است؛ کد ۱۲۳ را ببینید.", ("billing",)),
    Article("reset-password", "pt", "Redefinir a senha", "Crie uma senha nova pelo link do e-mail.", ("technical",)),
    Article("invoices", "pt", "Faturas", "A faturação mensal e as notas fiscais ficam nas configurações.",
            ("billing",)),
    Article("feedback", "pt", "Sugestões", "Envie a sua ideia de melhoria."),
    Article("reset-password", "en", "Resetting a password", "Choose a new password from the link.", ("technical",)),
]
KB = KnowledgeBase.of(ARTICLES)


def _found(words: str, locale: str, **kw: str | None) -> list[str]:
    return [a.slug for a in KB.search(words, locale, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(("locale", "words", "slug"), [
    ("cs", "heslo", "reset-password"), ("cs", "zapomněl jsem hesla", "reset-password"),
    ("cs", "co s heslem", "reset-password"), ("cs", "nove heslo", "reset-password"),
    ("cs", "kde je faktura", "invoices"), ("cs", "fakturou", "invoices"),
    ("ru", "пароль", "reset-password"), ("ru", "нет пароля", "reset-password"),
    ("ru", "что с паролем", "reset-password"), ("ru", "счета", "invoices"), ("ru", "счет", "invoices"),
    ("pt", "senha", "reset-password"), ("pt", "senhas", "reset-password"),
    ("pt", "fatura", "invoices"), ("pt", "faturacao", "invoices"), ("pt", "FATURAÇÃO", "invoices"),
    ("pt", "notas fiscais", "invoices"), ("pt", "nota fiscal", "invoices"),
    ("en", "passwords", "reset-password"),
])
def test_inflected_and_unaccented_forms_find_the_article(locale: str, words: str, slug: str) -> None:
    assert _found(words, locale)[:1] == [slug]


@pytest.mark.parametrize("words", [
    "رمز عبور", "رمزعبور", "رمز عبورم", "بازيابي رمز",  # Arabic yeh
])
def test_persian_password(words: str) -> None:
    assert _found(words, "fa")[:1] == ["reset-password"]


@pytest.mark.parametrize("words", [
    "صورت‌حساب", "صورتحساب", "صورت\u200cحسابها", "صورتحسابهاي من",  # ZWNJ or none, Arabic yeh
    "كد ١٢٣", "کد ۱۲۳", "کد 123",  # Arabic kaf, Arabic-Indic, Persian and ASCII digits
])
def test_persian_letters_digits_and_joiners(words: str) -> None:
    assert _found(words, "fa")[:1] == ["invoices"]


def test_a_search_stays_in_its_language() -> None:
    assert _found("heslo", "ru") == [] and _found("пароль", "cs") == []
    assert _found("password", "de") == []


def test_the_department_filter() -> None:
    assert _found("senha", "pt", department="technical") == ["reset-password"]
    assert _found("senha", "pt", department="billing") == []
    assert _found("fatura", "pt", department="billing") == ["invoices"]
    assert _found("ideia de melhoria", "pt", department="billing") == ["feedback"]  # no departments: any
    assert _found("fatura senha ideia", "pt") == sorted(_found("fatura senha ideia", "pt")[:3],
                                                       key=_found("fatura senha ideia", "pt").index)
    assert len(_found("fatura senha ideia", "pt", department="technical")) == 2


def test_the_limit_and_the_order() -> None:
    assert len(_found("senha fatura ideia", "pt")) == 3
    assert len(KB.search("senha fatura ideia", "pt", limit=1)) == 1
    assert KB.search("senha", "pt", limit=0) == []
    # The title weighs more than the body: both name «faturas», the title wins.
    kb = KnowledgeBase.of([Article("a", "pt", "Planos", "Faturas, faturas e faturas."),
                           Article("b", "pt", "Faturas", "Onde ficam.")])
    assert [a.slug for a in kb.search("faturas", "pt")] == ["b", "a"]


@pytest.mark.parametrize("words", ["", "   ", "?!", "how do I", "jak mám", "как мне", "چطور", "como eu"])
def test_nothing_usable_finds_nothing(words: str) -> None:
    kb = KnowledgeBase.of([*ARTICLES, Article("how", "en", "How I do it", "How do I, how can I.")])
    assert [a.slug for lang in ("en", "cs", "ru", "fa", "pt") for a in kb.search(words, lang)] == []


def test_quotes_and_operators_in_a_question_are_words() -> None:
    for words in ('"senha', "senha OR", "senha AND NOT x", "senha*", "(senha", "NEAR(senha)", "senha:fatura"):
        assert _found(words, "pt")[:1] in (["reset-password"], ["invoices"]), words
    assert KnowledgeBase().search("senha", "pt") == []


def test_markdown_as_plain_text() -> None:
    text = plain("# Title\n\nSome **bold**, *italic*, __strong__ and `code`; see [the guide](https://x.io/a_b)"
                 " or <https://x.io>.\n\n## Steps\n\n1. First\n2. Second\n   continued\n\n- one\n* two\n"
                 "  - nested\n\n> quoted *text*\n\n---\n\nsnake_case_word stays, 2*3*4 stays.\n")
    assert text == ("Title\n\nSome bold, italic, strong and code; see the guide (https://x.io/a_b) or https://x.io.\n\n"
                    "Steps\n\n1. First\n2. Second continued\n\n• one\n• two\n  • nested\n\nquoted text\n\n"
                    "snake_case_word stays, 2*3*4 stays.")


def test_a_long_article_comes_in_pieces() -> None:
    body = "\n\n".join(f"Paragraph {n}: " + "word " * 150 for n in range(12))
    article = Article("long", "en", "Long", body)
    parts = article.pieces()
    assert len(parts) > 1 and all(len(p) <= 4000 for p in parts)
    assert parts[0].startswith("Long\n\nParagraph 0:") and parts[1].startswith("Paragraph")
    assert " ".join(" ".join(parts).split()) == " ".join(f"Long {article.plain()}".split())
    assert pieces("x" * 10, 4) == ["xxxx", "xxxx", "xx"] and pieces("") == []
    assert Article("short", "en", "Short", "Text.").pieces() == ["Short\n\nText."]
