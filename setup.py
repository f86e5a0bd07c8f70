"""Build step: the catalogs in locales/ travel inside the package as core/locales, compiled.

locales/ stays at the top of the repository (where translators and `locales/update.py` find
it); a wheel carries it as package data with every .mo built here, so an installed bot never
compiles into its install folder. Everything else is declared in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads locales/ in the checkout (see core/i18n.py)
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        target = Path(self.build_lib) / "core" / "locales"
        for po in sorted((HERE / "locales").glob("*/LC_MESSAGES/messages.po")):
            out = target / po.relative_to(HERE / "locales")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(po.read_bytes())
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=po.parent.parent.name)
            with out.with_suffix(".mo").open("wb") as fh:
                write_mo(fh, catalog, use_fuzzy=False)


setup(cmdclass={"build_py": BuildWithCatalogs})
