"""A mail's language, one of those the desk offers, or None when the mail does not say."""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Sequence

from py3langid.langid import MODEL_FILE, LanguageIdentifier

LANGUAGES = ("en", "fa", "ru", "cs", "pt")
# Fewer letters than this ("OK", "Díky") say nothing reliable about a language.
MIN_LETTERS = 15
MIN_CONFIDENCE = 0.8
# The start of a text says its language as well as the whole of a long one does.
SAMPLE = 2000

_identifier: LanguageIdentifier | None = None
_lock = threading.Lock()


def detect_language(text: str, content_language: str | None = None, offered: Sequence[str] = LANGUAGES,
                    ) -> str | None:
    """The text's own language where it can be told: the script (Arabic: Persian, Cyrillic:
    Russian), else a classifier over the five for text long enough to judge; else
    Content-Language when it names one of the five. The header comes last because mail programs
    write their own interface's language there (a Czech customer's English Outlook says en-US).
    Only a language the desk offers counts: the classifier still weighs all five, so that a
    letter in another is not taken for the nearest offered one."""
    found = (_by_text(text[:SAMPLE]), _by_header(content_language))
    return next((code for code in found if code in offered), None)


def _by_header(content_language: str | None) -> str | None:
    if not content_language:
        return None
    tag = content_language.split(",")[0].strip().split("-")[0].split("_")[0].lower()
    return tag if tag in LANGUAGES else None


def _by_text(text: str) -> str | None:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    scripts = {"ARABIC": 0, "CYRILLIC": 0, "LATIN": 0}
    for char in letters:
        script = unicodedata.name(char, "").split(" ", 1)[0]
        if script in scripts:
            scripts[script] += 1
    arabic, cyrillic, latin = scripts["ARABIC"], scripts["CYRILLIC"], scripts["LATIN"]
    # A script wins by majority: a Persian mail quoting an English error message is Persian.
    if arabic and arabic >= max(cyrillic, latin):
        return "fa"
    if cyrillic and cyrillic >= latin:
        return "ru"
    if len(letters) < MIN_LETTERS:
        return None
    language, confidence = _classifier().classify(text)
    return language if language in LANGUAGES and confidence >= MIN_CONFIDENCE else None


def _classifier() -> LanguageIdentifier:
    # The model is loaded once, on first use, and restricted to our own copy's languages so that
    # nobody else's use of py3langid's module-level identifier is changed.
    global _identifier
    with _lock:
        if _identifier is None:
            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(LANGUAGES))
            _identifier = identifier
        return _identifier
