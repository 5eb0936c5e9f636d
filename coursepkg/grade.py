"""``python -m coursepkg.grade NOTEBOOK_OR_FOLDER ...``: the offline autograder.

See ``coursepkg.grading.autograde`` and ``docs/exercises.md``.
"""

import sys

from .grading.autograde import main

if __name__ == "__main__":
    sys.exit(main())
