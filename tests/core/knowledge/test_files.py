"""Articles on disk: read with their front matter, every problem named with its file, the
[knowledge] folder of the configuration, and `helpdesk-bot kb check`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import bootstrap
from bot.cli import main
from core.domain.config import DEFAULT_CONFIG, ConfigError, load_config
from core.knowledge import KnowledgeBase
from core.knowledge.files import load, problems

GOOD = "---\ntitle: {title}\ndepartments: [{departments}]\ntags: [a, b]\n---\n{body}\n"


def _article(folder: Path, language: str, slug: str, text: str | None = None, *, title: str = "A title",
             departments: str = "", body: str = "Some **text**.") -> Path:
    path = folder / language / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else GOOD.format(title=title, departments=departments, body=body),
                    encoding="utf-8")
    return path


def _config(tmp_path: Path, folder: str | None = "articles") -> Path:
    text = DEFAULT_CONFIG.read_text(encoding="utf-8").replace('# folder = "<bundled>"',
                                                              f'folder = "{folder}"' if folder else "")
    path = tmp_path / "helpdesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_article_is_read_with_its_front_matter(tmp_path: Path) -> None:
    _article(tmp_path, "cs", "reset-password", title="Zapomenuté heslo", departments="technical, billing",
             body="# Postup\n\n1. Klikněte na [odkaz](https://example.com).\n- *hned*")
    kb = KnowledgeBase.load(tmp_path)
    article = kb.get("reset-password", "cs")
    assert article is not None and kb.languages() == {"cs"}
    assert (article.title, article.departments, article.tags) == ("Zapomenuté heslo", ("technical", "billing"),
                                                                  ("a", "b"))
    assert article.path == tmp_path / "cs" / "reset-password.md"
    assert article.plain() == "Postup\n\n1. Klikněte na odkaz (https://example.com).\n• hned"
    assert KnowledgeBase.load(None).articles() == []


@pytest.mark.parametrize(("text", "problem"), [
    ("Just text, no front matter.\n", "no front matter"),
    ("---\ntags: [a]\ntitle: a: b\n---\nBody\n", "front matter is not valid YAML (line 3): mapping values"),
    ("---\ntitle: ''\n---\nBody\n", "title is missing or empty"),
    ("---\ntags: [a]\n---\nBody\n", "title is missing or empty"),
    ("---\ntitle: T\n---\n\n  \n", "the article has no text after the front matter"),
    ("---\ntitle: T\ndepartment: [billing]\n---\nBody\n", "unknown key 'department' in the front matter"),
    ("---\ntitle: T\ntags: {a: 1}\n---\nBody\n", "tags: a list of words"),
    ("---\n- a\n- b\n---\nBody\n", "title is missing or empty"),
])
def test_a_broken_article_is_named_with_its_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = _article(tmp_path, "en", "broken", text)
    _article(tmp_path, "en", "fine")
    with pytest.raises(ConfigError) as caught:
        KnowledgeBase.load(tmp_path)
    assert f"{path}: " in str(caught.value) and problem in str(caught.value)
    assert "fine.md" not in str(caught.value)


def test_the_folder_problems(tmp_path: Path) -> None:
    _article(tmp_path, "de", "hallo")
    _article(tmp_path, "en", "Bad Name")
    _article(tmp_path, "en", "one", title="Same title")
    _article(tmp_path, "en", "two", title="same TITLE")
    _article(tmp_path, "en", "billing", departments="billing, nosuch")
    _article(tmp_path, "fa", "only-in-persian")
    found, wrong = problems(tmp_path, ["billing", "technical"], "en")
    said = sorted(f"{p.path.relative_to(tmp_path)}: {p.problem}" for p in wrong)
    assert said == [
        "de: not a language folder: use one of en, fa, cs, ru, pt",
        "en/Bad Name.md: file name: lower-case letters, digits, '-' and '_' only (at most 40), e.g. "
        "reset-password.md",
        "en/billing.md: unknown department 'nosuch' (known: billing, technical)",
        "en/two.md: the same title as one.md",
        "fa/only-in-persian.md: no en/only-in-persian.md: the deployment's first language has no such article",
    ]
    assert [p.fatal for p in wrong if "only-in-persian" in str(p.path)] == [False]
    assert sorted(a.slug for a in found) == ["one", "only-in-persian", "two"]
    with pytest.raises(ConfigError, match="unknown department 'nosuch'"):
        load(tmp_path, ["billing", "technical"], "en")


def test_missing_in_the_first_language_does_not_stop_the_bot(tmp_path: Path) -> None:
    _article(tmp_path, "fa", "only-in-persian")
    kb, warnings = load(tmp_path, ["billing"], "en")
    assert [a.slug for a in kb.articles("fa")] == ["only-in-persian"] and len(warnings) == 1


def test_the_configuration_names_the_folder(tmp_path: Path) -> None:
    assert load_config().knowledge.folder is None  # the examples are for a trial: named, not by default
    bundled = load_config(_config(tmp_path, "<bundled>")).knowledge.folder
    assert bundled is not None and bundled == (Path(__file__).parents[3] / "core" / "knowledge" / "articles")
    assert load_config(_config(tmp_path)).knowledge.folder == tmp_path / "articles"
    assert load_config(_config(tmp_path, str(tmp_path / "abs"))).knowledge.folder == tmp_path / "abs"
    assert load_config(_config(tmp_path, None)).knowledge.folder is None
    copy = tmp_path / "copy" / "helpdesk.toml"  # a copy of a file naming the examples keeps them
    copy.parent.mkdir()
    copy.write_text(_config(tmp_path, "<bundled>").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_config(copy).knowledge.folder == bundled


def test_the_bot_reads_the_configured_articles_or_stops(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path))
    _article(tmp_path / "articles", "en", "reset-password", departments="technical")
    assert [a.slug for a in bootstrap.knowledge(config).articles("en")] == ["reset-password"]
    _article(tmp_path / "articles", "en", "refunds", departments="refunds")
    with pytest.raises(ConfigError, match=r"articles/en/refunds\.md: unknown department 'refunds'"):
        bootstrap.knowledge(config)
    assert bootstrap.knowledge(load_config(_config(tmp_path, None))).articles() == []


def test_kb_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path)
    assert main(["kb", "check", "--config", str(config)]) == 1
    assert "no such folder" in capsys.readouterr().out
    for language in ("en", "cs"):
        _article(tmp_path / "articles", language, "reset-password", departments="technical")
        _article(tmp_path / "articles", language, "refunds", departments="billing", title="Refunds")
    assert main(["kb", "check", "--config", str(config)]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'articles'}: OK, 4 articles (en 2, cs 2)\n"
    broken = _article(tmp_path / "articles", "ru", "refunds", "no front matter\n")
    _article(tmp_path / "articles", "pt", "only-pt")
    assert main(["kb", "check", "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"{broken}: no front matter: the file must start with a line '---', then title: ..., then '---'",
        f"{tmp_path / 'articles' / 'pt' / 'only-pt.md'}: warning: no en/only-pt.md: the deployment's first "
        "language has no such article",
    ]
    assert err == f"2 problem(s) in {tmp_path / 'articles'}\n"
    assert main(["kb", "check", "--config", str(_config(tmp_path, None))]) == 0
    assert "no knowledge base" in capsys.readouterr().out


def test_the_bundled_articles_pass_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, "<bundled>")
    assert main(["kb", "check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "OK, 45 articles (en 9, fa 9, cs 9, ru 9, pt 9)" in out
    for article in bootstrap.knowledge(load_config(config)).articles():
        assert "helpful" not in article.body.casefold()[-200:]  # the bot asks that with buttons


def test_a_broken_article_stops_the_start_without_a_traceback(tmp_path: Path) -> None:
    config = _config(tmp_path)
    broken = _article(tmp_path / "articles", "cs", "heslo", "---\ntitle: Heslo\n---\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "BALE_", "EMAIL_"))}
    env.update(HELPDESK_CONFIG=str(config), DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    result = subprocess.run([sys.executable, "-m", "bot", "run"], capture_output=True, text=True, timeout=60,
                            env=env, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result.stderr
    assert f"{broken}: the article has no text after the front matter" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "h.db").exists()
