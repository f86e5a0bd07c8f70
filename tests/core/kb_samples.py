"""A small knowledge base for the conversation's, the agents' and the desks' tests: the same
articles in English, Persian and Czech (one English-only), searched with the knowledge base's
own search."""

from __future__ import annotations

from core.knowledge import Article, KnowledgeBase

LONG_SLUG = "a" * 41  # one byte over what a button's key can carry


def _a(slug: str, locale: str, title: str, text: str, departments: tuple[str, ...] = ("technical",)) -> Article:
    return Article(slug, locale, title, f"# {title}\n\n{text}", departments)


ARTICLES = [
    _a("reset-password", "en", "Reset your password",
       "Open **Settings** and choose [Forgot password](https://example.com/reset). Most login problems "
       "end here."),
    _a("login-errors", "en", "Login errors explained", "What each login error means and what to do."),
    _a("server-error", "en", "Server error 500", "A page that answers 500 is our fault: write to us."),
    _a("invoice-copy", "en", "A copy of your invoice", "Every invoice is in your account.", ("billing",)),
    _a(LONG_SLUG, "en", "Login with a very long slug", "login", ()),
    _a("reset-password", "fa", "بازیابی رمز عبور",
       "در **تنظیمات** گزینهٔ «فراموشی رمز عبور» را انتخاب نمایید. بیشتر مشکلات ورود همین‌جا حل می‌شود."),
    _a("reset-password", "cs", "Obnovení hesla",
       "Zvolte v **Nastavení** Zapomenuté heslo a zadejte svůj e-mail. Většina potíží s přihlášením tím končí."),
]


def sample_kb() -> KnowledgeBase:
    return KnowledgeBase.of(ARTICLES)
