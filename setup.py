"""One build step pyproject.toml cannot say: compile the translation catalogs into the wheel.

Compiled catalogs (*.mo) are build output, kept out of git; deploy/bootstrap.sh
compiles them in place for a checkout. Without this step a wheel built from a
clean checkout would have none, and Flask-Babel would quietly show English to
every source. Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

TRANSLATIONS = Path("app") / "translations"


class BuildWithCatalogs(build_py):
    """build_py, then each app/translations/*/LC_MESSAGES/*.po compiled beside its copy."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads the checkout's catalogs
        # Babel is a build requirement (pyproject.toml), and Flask-Babel's own dependency.
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po")):
            mo = Path(self.build_lib) / po.with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalog = read_po(source)
            with mo.open("wb") as target:
                write_mo(target, catalog)


setup(cmdclass={"build_py": BuildWithCatalogs})
