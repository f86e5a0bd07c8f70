"""Refresh the catalogs after changing user-facing strings: `python locales/update.py`.

Extracts messages.pot with Babel, merges it into every language's messages.po (no fuzzy
matching: a changed string must be translated again, and the tests say which), and keeps the
English catalog identical to the source strings. Then translate what is empty.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LANGS = ("en", "fa", "cs", "ru", "pt")


def main() -> None:
    pybabel = [sys.executable, "-m", "babel.messages.frontend"]
    subprocess.run([*pybabel, "extract", "-F", str(HERE / "babel.cfg"), "-k", "_", "-k", "ngettext:1,2",
                    "--no-default-keywords", "--sort-by-file", "--add-comments=TRANSLATORS:",
                    "--project", "helpdesk-bot", "--copyright-holder", "helpdesk-bot",
                    "-o", str(HERE / "messages.pot"), "."], cwd=ROOT, check=True)
    for lang in LANGS:
        po = HERE / lang / "LC_MESSAGES" / "messages.po"
        action = "update" if po.exists() else "init"
        args = ["-i", str(HERE / "messages.pot"), "-d", str(HERE), "-D", "messages", "-l", lang]
        if action == "update":
            args += ["--no-fuzzy-matching", "--ignore-obsolete"]
        subprocess.run([*pybabel, action, *args], cwd=ROOT, check=True)
    _fill_english(HERE / "en" / "LC_MESSAGES" / "messages.po")


def _fill_english(path: Path) -> None:
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if not message.id:
            continue
        message.string = message.id
        message.flags.discard("fuzzy")
    with path.open("wb") as fh:
        write_po(fh, catalog, sort_by_file=True, ignore_obsolete=True)


if __name__ == "__main__":
    main()
