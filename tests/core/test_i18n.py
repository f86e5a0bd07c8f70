"""Catalogs complete and correct in all five languages; locale-aware formatting."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

from core.domain.config import LANGUAGES
from core.i18n import FSI, LOCALES_DIR, PDI, RLM, compiled_catalog, match_locale, translator

PLACEHOLDER = re.compile(r"\{\w+\}")
NPLURALS = {"en": 2, "fa": 1, "cs": 3, "ru": 3, "pt": 2}


def _catalog(lang: str):
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def _template():
    with (LOCALES_DIR / "messages.pot").open("rb") as fh:
        return read_po(fh)


def test_template_is_up_to_date(tmp_path: Path) -> None:
    """Every t._()/t.ngettext() string in the code is in messages.pot, and nothing stale."""
    out = tmp_path / "fresh.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(LOCALES_DIR / "babel.cfg"),
         "-k", "_", "-k", "ngettext:1,2", "--no-default-keywords", "-o", str(out), "."],
        cwd=LOCALES_DIR.parent, check=True, capture_output=True,
    )
    with out.open("rb") as fh:
        fresh = {m.id for m in read_po(fh) if m.id}
    committed = {m.id for m in _template() if m.id}
    assert fresh - committed == set(), "run `python locales/update.py`: strings missing from the template"
    assert committed - fresh == set(), "run `python locales/update.py`: stale strings in the template"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_is_complete_and_consistent(lang: str) -> None:
    catalog = _catalog(lang)
    assert catalog.num_plurals == NPLURALS[lang], catalog.plural_forms
    wanted = {m.id for m in _template() if m.id}
    problems = []
    present = set()
    for message in catalog:
        if not message.id:
            continue
        present.add(message.id)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if "fuzzy" in message.flags:
            problems.append(f"fuzzy: {ids[0]!r}")
        if isinstance(message.id, tuple) and len(strings) != NPLURALS[lang]:
            problems.append(f"{len(strings)} plural forms: {ids[0]!r}")
        for text in strings:
            if not text:
                problems.append(f"untranslated: {ids[0]!r}")
            elif set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(ids[-1])):
                problems.append(f"placeholders differ: {ids[0]!r} -> {text!r}")
    problems += [f"missing: {m!r}" for m in wanted - present]
    assert problems == []


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_msgfmt_check(lang: str, tmp_path: Path) -> None:
    po = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    result = subprocess.run(["msgfmt", "--check", "-o", str(tmp_path / "x.mo"), str(po)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_plural_forms_pick_the_right_form() -> None:
    def forms(lang: str, *numbers: int) -> list[str]:
        t = translator(lang)
        texts = [t.ngettext("{n} file attached", "{n} files attached", n) for n in numbers]
        return [re.sub(r"[0-9۰-۹]+", "N", x) for x in texts]  # the words around the number

    one, few, many = forms("cs", 1, 3, 5)
    assert len({one, few, many}) == 3  # soubor / soubory / souborů
    one, few, many, twenty_one = forms("ru", 1, 3, 5, 21)
    assert one == twenty_one and len({one, few, many}) == 3
    zero, one, two = forms("pt", 0, 1, 2)
    assert zero == one != two  # pt-BR: zero takes the singular
    assert forms("en", 1, 2) == ["N file attached", "N files attached"]
    assert "۳" in translator("fa").ngettext("{n} file attached", "{n} files attached", 3)


def test_persian_formatting() -> None:
    t = translator("fa")
    assert t.ticket(1042) == f"{FSI}#1042{PDI}"
    moment = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
    text = t.datetime(moment, ZoneInfo("Asia/Tehran"))
    assert "آبان" in text and "۱۴۰۵" in text and "۱۲:۰۰" in text  # Solar Hijri, Persian digits
    assert not re.search(r"[0-9]", text)
    assert t.number(1042) == "۱٬۰۴۲"  # a count, grouped; a ticket number goes through t.ticket
    filled = t._("Ticket {ticket} has been withdrawn.", ticket=t.ticket(7))
    assert f"{FSI}#7{PDI}" in filled


def test_other_locales_format_dates_their_way() -> None:
    moment = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    prague = ZoneInfo("Europe/Prague")
    assert "21. listopadu 2026" in translator("cs").datetime(moment, prague)
    assert "21 ноября 2026" in translator("ru").datetime(moment, prague)
    assert "21 de novembro de 2026" in translator("pt").datetime(moment, prague)
    assert "November 21, 2026" in translator("en").datetime(moment, prague)


def test_days_in_each_calendar() -> None:
    day = date(2026, 11, 21)
    assert translator("en").date(day) == "November 21, 2026"
    assert translator("cs").date(day) == "21. listopadu 2026"
    assert translator("ru").date(day).startswith("21 ноября 2026")
    assert translator("pt").date(day) == "21 de novembro de 2026"
    assert translator("fa").date(day) == "۳۰ آبان ۱۴۰۵"  # Solar Hijri, Persian digits


@pytest.mark.parametrize(("hours", "en", "ru"), [
    (0.0, "0 min", "0 мин"),
    (0.01, "1 min", "1 мин"),  # would be 0.0 in hours
    (0.75, "45 min", "45 мин"),
    (1.0, "1 hr", "1 ч"),
    (1.5, "1 hr 30 min", "1 ч 30 мин"),
    (26.99, "26 hr 59 min", "26 ч 59 мин"),
])
def test_durations_to_the_minute(hours: float, en: str, ru: str) -> None:
    assert translator("en").duration(hours) == en
    assert translator("ru").duration(hours) == ru


def test_persian_durations_in_persian_digits() -> None:
    assert translator("fa").duration(0.75) == "۴۵ دقیقه"
    assert not re.search(r"[0-9]", translator("fa").duration(2.5))


@pytest.mark.parametrize(("code", "expected"), [
    ("fa-IR", "fa"), ("pt-BR", "pt"), ("pt_PT", "pt"), ("cs", "cs"), ("RU", "ru"),
    ("de", None), ("", None), (None, None),
])
def test_match_locale(code: str | None, expected: str | None) -> None:
    assert match_locale(code) == expected


def _copy_catalogs(tmp_path: Path) -> Path:
    shutil.copytree(LOCALES_DIR, tmp_path / "locales", ignore=shutil.ignore_patterns("*.mo"))
    return tmp_path / "locales" / "cs" / "LC_MESSAGES" / "messages.po"


def test_catalogs_compile_into_the_cache_not_beside_the_sources(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    po = _copy_catalogs(tmp_path)
    mo = compiled_catalog(po)
    assert Translations(io.BytesIO(mo)).gettext("Which department should handle your request?") \
        != "Which department should handle your request?"
    assert not list((tmp_path / "locales").rglob("*.mo"))
    cached = list((tmp_path / "cache" / "helpdesk-bot" / "locales").glob("cs-*.mo"))
    assert len(cached) == 1 and cached[0].read_bytes() == mo
    # An edited catalog is compiled afresh, never served from the cache stale.
    text = po.read_text(encoding="utf-8")
    po.write_text(text.replace('msgstr "Které oddělení', 'msgstr "ZMĚNA Které oddělení', 1), encoding="utf-8")
    assert "ZMĚNA" in Translations(io.BytesIO(compiled_catalog(po))).gettext(
        "Which department should handle your request?")
    assert len(list((tmp_path / "cache" / "helpdesk-bot" / "locales").glob("cs-*.mo"))) == 2


def test_unwritable_cache_still_translates(tmp_path: Path, monkeypatch) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    monkeypatch.setattr(tempfile, "tempdir", str(blocked))
    po = _copy_catalogs(tmp_path)
    mo = compiled_catalog(po)
    assert Translations(io.BytesIO(mo)).gettext("Which department should handle your request?") \
        != "Which department should handle your request?"
    assert not list(tmp_path.rglob("*.mo"))


def test_persian_isolates_latin_runs_of_the_translation_too() -> None:
    t = translator("fa")
    shown = t._("Show a ticket: /ticket 1042")
    assert f"{FSI}/ticket 1042{PDI}" in shown
    assert f"{FSI}/reply 1042{PDI}" in t._("Please give the ticket number, for example: /{command} 1042",
                                           command="reply")
    once = t._("There is no ticket #{number}.", number=1001)
    assert once.count(FSI) == once.count(PDI) == 1 and f"{FSI}#1001{PDI}" in once
    tagged = t._("Ticket {ticket} has been withdrawn.", ticket=t.ticket(1001))
    assert tagged.count(FSI) == 1 and t.isolate(tagged) == tagged
    assert t.isolate("سلام، تیکت ۱۰۴۲") == "سلام، تیکت ۱۰۴۲"  # Persian text and digits untouched


@pytest.mark.parametrize("lang", ["en", "cs"])
def test_left_to_right_languages_are_not_isolated(lang: str) -> None:
    t = translator(lang)
    for text in (t._("Show a ticket: /ticket 1042"), t._("There is no ticket #{number}.", number=1001)):
        assert FSI not in text and PDI not in text
    assert t.isolate("see /ticket 1042") == "see /ticket 1042"


def test_persian_lines_that_start_with_latin_stay_right_to_left() -> None:
    """A client takes a paragraph's direction from its first strong letter, and many skip no
    isolate: a Persian help line that begins with "/new" would be laid out left to right."""
    t = translator("fa")
    text = t.isolate("/new — ثبت تیکت جدید\n#1042 · عنوان\nسلام /help")
    lines = text.split("\n")
    assert lines[0] == f"{RLM}{FSI}/new{PDI} — ثبت تیکت جدید"
    assert lines[1].startswith(f"{RLM}{FSI}#1042{PDI}")
    assert not lines[2].startswith(RLM)
    assert t.isolate(text) == text  # isolating twice changes nothing
    assert RLM not in translator("cs").isolate("/new — nový tiket")
    assert t.isolate("") == "" and t.isolate("سلام\n\n/new") == f"سلام\n\n{RLM}{FSI}/new{PDI}"



@pytest.mark.parametrize(("lang", "shown"), [
    ("en", "4,000"), ("pt", "4.000"), ("cs", "4\xa0000"), ("ru", "4\xa0000"), ("fa", "۴٬۰۰۰")])
def test_counts_are_grouped_as_the_language_groups_them(lang: str, shown: str) -> None:
    t = translator(lang)
    assert t.number(4000) == shown
    assert t.number(120) == ("۱۲۰" if lang == "fa" else "120")
