"""Build step: ship the top-level ``templates/`` and ``locale/`` inside the wheel.

They sit at the checkout's top (the design card's layout), outside any package, so package data
cannot name them: the build copies them to ``parkingops/bundled/``, where the settings look when
the project runs from an installed wheel rather than a checkout. Everything else is in
pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = ("templates", "locale")


class BuildWithSiteFiles(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return  # an editable install runs from the checkout, which has them
        for name in BUNDLED:
            target = Path(self.build_lib) / "parkingops" / "bundled" / name
            shutil.copytree(HERE / name, target, dirs_exist_ok=True, ignore=_not_shipped)


def _not_shipped(directory, names):
    return [name for name in names if name == "__pycache__" or name.endswith(".pyc")]


setup(cmdclass={"build_py": BuildWithSiteFiles})
