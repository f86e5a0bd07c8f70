"""The wheel, installed outside the repository, speaks Persian and Czech and knows its version.

The wheel is built from a copy of the sources and installed into a fresh virtual environment in
a temporary folder. Its dependencies come from this test run's environment (a path to its
site-packages, so that environment's editable install of the bot is not activated there); the
bot itself must be imported from the new environment, which the test checks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import bot
from core.i18n import LOCALES_DIR, translator
from tests.adapters.test_console_e2e import SCRIPT

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{\w+\}")
INTAKE = [*SCRIPT[:SCRIPT.index("/agent queue")], "/tickets"]  # the customer's side only


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment outside the repository with the bot's wheel installed."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "tests", "*.mo", "*.db*"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"),
                    str(source)], check=True, capture_output=True, timeout=600)
    wheel, = (root / "dist").glob("helpdesk_bot-*.whl")
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                    "--no-index", str(wheel)], check=True, capture_output=True, timeout=300)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # The dependencies: this environment's packages, appended after the new environment's own.
    (Path(site) / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env_dir


def _run(env_dir: Path, cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "SLACK_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{cwd / 'h.db'}", ATTACHMENTS_DIR=str(cwd / "files"),
               XDG_CACHE_HOME=str(cwd / "cache"), HOME=str(cwd))
    return subprocess.run([str(env_dir / "bin" / "helpdesk-bot"), *args], input=stdin, capture_output=True,
                          text=True, timeout=120, env=env, cwd=cwd)


def test_the_bot_is_imported_from_the_new_environment(installed: Path, tmp_path: Path) -> None:
    code = "import bot, core.i18n as i; print(bot.__file__); print(i.LOCALES_DIR)"
    result = subprocess.run([str(installed / "bin" / "python"), "-c", code], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60, check=True)
    module, catalogs = result.stdout.split()
    assert Path(module).is_relative_to(installed) and not Path(module).is_relative_to(REPO)
    assert Path(catalogs).is_relative_to(installed)


def test_version_from_one_place(installed: Path, tmp_path: Path) -> None:
    result = _run(installed, tmp_path, "--version")
    assert result.returncode == 0 and result.stdout.strip() == f"helpdesk-bot {bot.__version__}"
    metadata = subprocess.run([str(installed / "bin" / "python"), "-c",
                               "from importlib.metadata import version; print(version('helpdesk-bot'))"],
                              capture_output=True, text=True, cwd=tmp_path, timeout=60, check=True)
    assert metadata.stdout.strip() == bot.__version__


def _english_fragments(lang: str) -> set[str]:
    """English text of every catalog message whose translation differs: placeholders split it."""
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    fragments: set[str] = set()
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english in ids:
            for part in PLACEHOLDER.split(english):
                part = part.strip(" .:,!?\n")
                # Short pieces ("OK", a lone word) may be written alike in both languages.
                if len(part) >= 12 and not any(part in s for s in strings):
                    fragments.add(part)
    return fragments


@pytest.mark.parametrize("lang", ["fa", "cs"])
def test_an_intake_from_the_installed_wheel_has_no_english(installed: Path, tmp_path: Path, lang: str) -> None:
    site = next(installed.glob("lib/python*/site-packages"))
    before = sorted(p.relative_to(site) for p in site.rglob("*") if "__pycache__" not in p.parts)
    result = _run(installed, tmp_path, "console", "--lang", lang, stdin="\n".join(INTAKE) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    t = translator(lang)
    created = t._("Thank you! Your ticket {ticket} has been created. Our replies will arrive in this chat. "
                  "Expected first response by {when}.", ticket=t.ticket(1001), when="@@").split("@@")[0]
    assert created in out
    english = sorted(f for f in _english_fragments(lang) if f in out)
    assert english == [], out
    # Catalogs compiled when the wheel was built: nothing compiled at run time, nothing written
    # into the install folder.
    assert not (tmp_path / "cache").exists()
    after = sorted(p.relative_to(site) for p in site.rglob("*") if "__pycache__" not in p.parts)
    assert after == before


def test_migrations_travel_in_the_wheel(installed: Path, tmp_path: Path) -> None:
    from core.storage.migrate import head_revision

    history = _run(installed, tmp_path, "db", "history")
    assert history.returncode == 0, history.stderr
    assert history.stdout.splitlines()[-1].startswith("<base> -> 0001, ")
    upgraded = _run(installed, tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == f"database is at revision {head_revision()} (head)"


def test_the_example_articles_travel_in_the_wheel(installed: Path, tmp_path: Path) -> None:
    config = tmp_path / "with-articles.toml"
    config.write_text(bundled_articles(), encoding="utf-8")
    checked = _run(installed, tmp_path, "kb", "check", "--config", str(config))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    folder, summary = checked.stdout.strip().split(": ", 1)
    assert Path(folder).is_relative_to(installed) and summary == "OK, 45 articles (en 9, fa 9, cs 9, ru 9, pt 9)"


def bundled_articles() -> str:
    """The bundled configuration with its example articles named."""
    from core.domain.config import DEFAULT_CONFIG

    return DEFAULT_CONFIG.read_text(encoding="utf-8").replace('# folder = "<bundled>"', 'folder = "<bundled>"', 1)
