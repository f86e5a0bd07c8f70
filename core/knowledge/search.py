"""The search over the articles: an in-memory SQLite FTS5 index of stemmed words.

Why this and not the deployment's database: the articles are files, read once at start, so the
index is built once there, in memory (stdlib sqlite3, FTS5), and a search is a local query well
under a millisecond, with the same results whether the tickets live in SQLite or PostgreSQL
(PostgreSQL ships no Czech or Persian text-search configuration, so its own search would
differ). What makes it work per language is done here, before FTS5 sees a word:

- the text is normalized as everywhere else (core.domain.textnorm: Persian digits, Arabic yeh
  and kaf, zero-width joiners, case);
- each word is stemmed with that language's Snowball stemmer (snowballstemmer: Czech and
  Russian inflection, Persian plural and object suffixes, Portuguese), once as written and
  once without its diacritics (customers often type «heslo» as «heslo» and «faturação» as
  «faturacao», and a stemmer's suffixes carry diacritics), and both stems are kept without
  diacritics (the index's tokenizer, unicode61 with remove_diacritics 2, would drop them too);
- the most common function words are dropped (STOP_WORDS below);
- each word also gives its first letters (PREFIX), a second, looser key: it joins forms the
  stemmer leaves apart (Czech «přihlášení» and «přihlásit», Persian «رمزعبور» and «رمز عبور»);
- Persian: a word joined by a zero-width non-joiner also counts as its parts, and the
  pronominal enclitics the stemmer leaves on («پولم», my money) are taken off.

Ranking is FTS5's bm25 with the title weighted above the tags, and the tags above the body.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache

import snowballstemmer

from core.domain.textnorm import for_matching

STEMMERS = {"en": "english", "fa": "persian", "cs": "czech", "ru": "russian", "pt": "portuguese"}
# bm25 weights of the indexed columns: title, tags, body.
WEIGHTS = (6.0, 3.0, 1.0)
# The length of the looser key, per language; a word shorter than it gives none.
PREFIX = {"en": 5, "fa": 3, "cs": 5, "ru": 5, "pt": 5}
_WORD = re.compile(r"\w+")
# Persian pronominal enclitics the Snowball stemmer leaves on («پولم», my money; «حسابتان»).
_ENCLITIC = re.compile("(?:ا?[متش]|[متش]ان)$")

# The most common function words (pronouns, prepositions, conjunctions, auxiliaries, question
# words) of each language, abridged from the Snowball project's stop-word lists
# (snowballstem.org/algorithms/<language>/stop.txt) and, for Persian, from Hazm's list with the
# colloquial forms customers type in a chat (رو، یه، اگه، میخوام); written without diacritics
# (they are compared without them). Words a question is about (password, invoice...) are never
# here; "up", "down" and "out" are kept ("the site is down", "logged out").
STOP_WORDS = {
    "en": """a an the and or but if of at by for with about to from in on into over under
        again then once here there when where why how what which who whom this that these those i me my
        myself we our you your he him his she her it its they them their am is are was were be been being
        have has had do does did doing can could should would will shall may might must not no so too very
        just get got please hi hello thanks thank want need help""",
    "fa": """و در به از که این آن با برای را تا یا هم اما اگر چه چرا چطور چگونه کجا کی من ما شما او
        آنها ایشان است هست نیست بود شد شده می هر همه یک بر نیز باید شود کنم کنید کند کرد کرده ام ای
        ها های دارم داره دارد دارید سلام لطفا ممنون مرسی
        رو یه اگه چی چیه خیلی میخوام میخواهم میشه بشه بشم کنم کنه میکنه""",
    "cs": """a i k o s u v z ze na do od po pro pri při za je jsem jsi jsme jste jsou byl byla bylo
        byli být to ten ta tak jak co kde kdy proč proc mi mě me mne můj moje muj moji jsem se si že ze
        ale nebo ani by bych už uz jen jeste ještě taky také take tu tam který která které ktery
        ktera ktere mám mam má ma mate máte dobrý den prosím prosim dekuji děkuji díky diky""",
    "ru": """и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее
        мне было вот от меня еще нет о из ему теперь когда даже ну ли если уже или ни быть был него до
        вас нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы
        тебя их чем была сам чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому
        этого какой совсем ним здесь этом мой моя мои моё мою почему как здравствуйте пожалуйста
        спасибо добрый день""",
    "pt": """a o e é de do da dos das em no na nos nas um uma uns umas para por com sem que se não nao
        ao aos à às pelo pela pelos pelas como mas ou eu me meu minha meus minhas você voce vocês
        ele ela eles elas isso isto esse essa este esta está esta estou foi ser ter tem tenho
        há ha já ja mais muito onde quando porque por que qual quais olá ola oi obrigado obrigada
        bom dia boa tarde favor""",
}


def fold(text: str) -> str:
    """Without diacritics: «přihlášení» is «prihlaseni», «faturação» «faturacao»."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@cache
def _stop_words(language: str) -> frozenset[str]:
    return frozenset(fold(for_matching(w)) for w in STOP_WORDS.get(language, "").split())


@cache
def _stemmer(language: str) -> snowballstemmer.Stemmer:
    return snowballstemmer.stemmer(STEMMERS.get(language, "english"))


@lru_cache(maxsize=65536)
def _stem(word: str, language: str) -> str:
    """The stem without diacritics. Cached: the stemmers are pure Python, and most words of the
    questions are already the articles' (stemmed when the index was built)."""
    return fold(_stemmer(language).stemWord(word))


def keys(text: str, language: str) -> list[str]:
    """The index keys of a text: per word its stems without diacritics, then its prefix key
    (`x` and its first PREFIX letters: the mark keeps it apart from the stems)."""
    stop = _stop_words(language)
    size = PREFIX.get(language, 5)
    out: list[str] = []
    words = _WORD.findall(for_matching(text))
    if "\u200c" in text:  # a word joined by ZWNJ counts whole and as its parts (صورت‌حساب‌ها)
        whole = set(words)
        words += [w for w in _WORD.findall(for_matching(text.replace("\u200c", " "))) if w not in whole]
    for word in words:
        bare = fold(word)
        if bare in stop or (len(bare) < 2 and not bare.isdigit()):
            continue
        out.append(_stem(word, language))
        if bare != word and (other := _stem(bare, language)) != out[-1]:
            out.append(other)
        if language == "fa" and len(root := _ENCLITIC.sub("", bare)) >= 3 and root != bare:
            if (other := _stem(root, language)) not in out[-2:]:
                out.append(other)
        if len(bare) >= size:
            out.append("x" + bare[:size])
    return out


class Index:
    """The articles' words, one row per article, searched in one language at a time.

    One table for every language, not one per language: with a few articles per language,
    bm25 would give a word found in more than half of them no weight at all (FTS5 clamps the
    negative rarity), and «fatura» would stop telling the invoices apart; counted over every
    language's articles, a language's topic words keep their weight (measured with the
    benchmark's questions: one table per language lost 1 to 3 questions in en, pt and fa)."""

    def __init__(self, rows: Iterable[tuple[str, str, str, Sequence[str], str, Sequence[str]]]) -> None:
        """`rows`: (locale, slug, title, tags, body as plain text, departments), in the order the
        results refer to (a result is a row's number)."""
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute("CREATE VIRTUAL TABLE kb USING fts5(locale UNINDEXED, departments UNINDEXED, "
                        "title, tags, body, tokenize = 'unicode61 remove_diacritics 2')")
        self.db.executemany(
            "INSERT INTO kb (rowid, locale, departments, title, tags, body) VALUES (?, ?, ?, ?, ?, ?)",
            [(n, locale, " " + " ".join(departments) + " ", " ".join(keys(title, locale)),
              " ".join(keys(" ".join(tags), locale)), " ".join(keys(body, locale)))
             for n, (locale, _slug, title, tags, body, departments) in enumerate(rows)])
        self.db.commit()

    def search(self, words: str, locale: str, department: str | None, limit: int) -> list[int]:
        """The numbers of the best rows for `words`, best first; [] when nothing in them is
        searchable (only function words, punctuation)."""
        wanted = dict.fromkeys(keys(words, locale))
        if not wanted or limit <= 0:
            return []
        query = " OR ".join(f'"{key}"' for key in wanted)  # each key a phrase: FTS5's syntax stays out
        weights = ", ".join(str(w) for w in WEIGHTS)
        rows = self.db.execute(
            f"SELECT rowid FROM kb WHERE kb MATCH ? AND locale = ? "
            f"AND (departments = '  ' OR ? IS NULL OR instr(departments, ' ' || ? || ' ') > 0) "
            f"ORDER BY bm25(kb, 0, 0, {weights}), rowid LIMIT ?",
            (query, locale, department, department, limit)).fetchall()
        return [n for (n,) in rows]
