"""The articles on disk: `<folder>/<language>/<slug>.md`, read and checked.

Each file starts with a YAML front matter (read by python-frontmatter):

    ---
    title: Resetting your password
    departments: [technical]      # codes of the configuration; absent or empty: every department
    tags: [password, login]       # words customers use that the text may not
    ---
    The article in Markdown.

`problems` finds everything wrong with a folder (what `helpdesk-bot kb check` prints);
`load` reads one for the bot, and refuses a folder with a problem that would mislead
customers (a ConfigError naming the file and the problem).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from core.domain.config import ConfigError
from core.domain.languages import LANGUAGES
from core.knowledge.articles import SLUG_MAX, Article, KnowledgeBase

SLUG = re.compile(rf"^[a-z0-9][a-z0-9_-]{{0,{SLUG_MAX - 1}}}$")
KEYS = ("title", "departments", "tags")


@dataclass(frozen=True, slots=True)
class Problem:
    path: Path
    problem: str
    fatal: bool = True  # False: worth fixing, but the articles can be used as they are

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def _codes(meta: dict[str, Any], key: str, problems: list[str]) -> tuple[str, ...]:
    value = meta.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and str(v).strip() for v in value):
        problems.append(f"{key}: a list of words, e.g. {key}: [billing]")
        return ()
    return tuple(str(v).strip() for v in value)


def read(path: Path, locale: str) -> tuple[Article | None, list[str]]:
    """The article in one file, and what is wrong with it (no article when it cannot be used)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"cannot be read: {exc}"]
    if not text.lstrip("\ufeff").startswith("---"):
        return None, ["no front matter: the file must start with a line '---', then title: ..., then '---'"]
    try:
        post = frontmatter.loads(text.lstrip("\ufeff"))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        return None, [f"front matter is not valid YAML{line}: {getattr(exc, 'problem', None) or exc}"]
    except (ValueError, TypeError) as exc:
        return None, [f"front matter cannot be read: {exc}"]
    meta = post.metadata
    if not isinstance(meta, dict):
        return None, ["front matter must be keys and values (title: ...)"]
    problems = [f"unknown key {key!r} in the front matter (known: {', '.join(KEYS)})" for key in meta
                if key not in KEYS]
    title = meta.get("title")
    if not isinstance(title, (str, int, float)) or not str(title).strip():
        problems.append("title is missing or empty")
    departments = _codes(meta, "departments", problems)
    tags = _codes(meta, "tags", problems)
    body = post.content.strip()
    if not body:
        problems.append("the article has no text after the front matter")
    if not SLUG.match(path.stem):
        problems.append(f"file name: lower-case letters, digits, '-' and '_' only (at most {SLUG_MAX}), e.g. "
                        "reset-password.md")
    if problems:
        return None, problems
    return Article(path.stem, locale, str(title).strip(), body, departments, tags, path), []


def problems(folder: Path, departments: Iterable[str] | None = None,
             first_language: str | None = None) -> tuple[list[Article], list[Problem]]:
    """The usable articles under `folder` and every problem found: files that cannot be read,
    folders that are not a language, departments that are not `departments` (when given),
    titles used twice in a language; and, not fatal, articles missing in `first_language`."""
    if not folder.is_dir():
        return [], [Problem(folder, "no such folder (the [knowledge] folder of the configuration)")]
    found: list[Article] = []
    out: list[Problem] = []
    known = set(departments) if departments is not None else None
    for path in sorted(folder.iterdir()):
        if path.is_dir() and path.name not in LANGUAGES:
            out.append(Problem(path, f"not a language folder: use one of {', '.join(LANGUAGES)}"))
        elif path.is_file() and path.suffix.lower() == ".md":
            out.append(Problem(path, "an article belongs in its language's folder, e.g. en/"))
    for language in LANGUAGES:
        titles: dict[str, list[Path]] = defaultdict(list)
        for path in sorted((folder / language).glob("*")):
            if path.suffix.lower() != ".md" or path.name.startswith("."):
                continue
            if path.suffix != ".md":
                out.append(Problem(path, "the file name must end in .md (lower case)"))
                continue
            article, wrong = read(path, language)
            out += [Problem(path, p) for p in wrong]
            if article is None:
                continue
            unknown = [d for d in article.departments if known is not None and d not in known]
            if unknown:
                out.append(Problem(path, f"unknown department {', '.join(map(repr, unknown))} "
                                         f"(known: {', '.join(sorted(known or ()))})"))
                continue
            titles[article.title.casefold()].append(path)
            found.append(article)
        for paths in titles.values():
            out += [Problem(p, f"the same title as {paths[0].name}") for p in paths[1:]]
    if first_language is not None:
        present = {a.slug for a in found if a.locale == first_language}
        for article in found:
            if article.locale != first_language and article.slug not in present:
                out.append(Problem(article.path or folder, f"no {first_language}/{article.slug}.md: the "
                                   f"deployment's first language has no such article", fatal=False))
    return found, out


def load(folder: Path | None, departments: Iterable[str] | None = None,
         first_language: str | None = None) -> tuple[KnowledgeBase, list[Problem]]:
    """The knowledge base of `folder` (empty when None) and its problems that are not fatal;
    ConfigError naming every fatal one."""
    if folder is None:
        return KnowledgeBase(), []
    articles, found = problems(folder, departments, first_language)
    fatal = [p for p in found if p.fatal]
    if fatal:
        raise ConfigError("the knowledge base cannot be used (`helpdesk-bot kb check` lists every problem):\n"
                          + "\n".join(f"  {p}" for p in fatal))
    return KnowledgeBase.of(articles), [p for p in found if not p.fatal]
