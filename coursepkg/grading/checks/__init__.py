"""Exercise checkers, one module per chapter: ``chNN.py`` (e.g. ``ch02.py``).

Every ``chNN`` module in this package is imported here, so adding a chapter's checks needs no
list to edit: create ``checks/chNN.py`` and decorate its checkers with
``coursepkg.grading.registry.exercise``.
"""

import importlib
import pkgutil
import re

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if re.fullmatch(r"ch\d+", _module):
        importlib.import_module(f"{__name__}.{_module}")
