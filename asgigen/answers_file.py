"""Where a project keeps copier's answers file, whatever its template named it.

copier writes the answers where the template's tree puts `{{ _copier_conf.answers_file }}`:
`.copier-answers.yml` by default, another name when copier.yml sets `_answers_file`
(`.copier-answers.fastapi.yml`), and sometimes in a folder (`.project/`, for templates
applied one on top of another). asgigen looks for `.copier-answers*.yml` (or `.yaml`) in the
project and one folder down, and passes the one it found to copier's update.
"""

from __future__ import annotations

import os
from pathlib import Path

from asgigen.errors import BadInputError
from asgigen.project_layout import the_one

DEFAULT = ".copier-answers.yml"
PATTERNS = (".copier-answers*.yml", ".copier-answers*.yaml")
_SKIPPED = {".git", ".venv", "venv", "node_modules", "__pycache__"}
# What a template adds to its tree so that copier writes the answers file.
TEMPLATE_FILE = "{{ _copier_conf.answers_file }}.jinja"
TEMPLATE_TEXT = "{{ _copier_answers|to_nice_yaml -}}"


def candidates(project: Path) -> list[Path]:
    """Answers files in the project and in its folders one level down, nearest first."""
    found = [path for pattern in PATTERNS for path in sorted(project.glob(pattern))]
    try:
        folders = sorted(entry.name for entry in os.scandir(project) if entry.is_dir())
    except OSError:
        folders = []
    for folder in folders:
        if folder not in _SKIPPED:
            found += [path for p in PATTERNS for path in sorted((project / folder).glob(p))]
    return [path for path in found if path.is_file()]


def find(project: Path) -> Path:
    """The project's answers file; an error when there is none, or several to choose from."""
    if (project / DEFAULT).is_file():
        return project / DEFAULT
    return the_one(
        candidates(project),
        project,
        none=BadInputError(
            f"{project} has no copier answers file (.copier-answers*.yml), so it was not "
            "generated from a template, or its template writes none",
            hint="asgigen update works on projects made by `asgigen new` or copier from a "
            f"template whose tree holds {TEMPLATE_FILE}",
        ),
        several=lambda found, listed: BadInputError(
            f"{project} has {len(found)} copier answers files: {listed}",
            hint="each belongs to one template; update with copier: "
            f"copier update -a {found[0].relative_to(project)}",
        ),
    )


def relative(project: Path, path: Path) -> str:
    return path.relative_to(project).as_posix()


def missing_message() -> str:
    """One line for `new` when the template wrote no answers file."""
    return (
        "the template writes no answers file, so this project cannot be updated from it; add "
        f"{TEMPLATE_FILE} holding {TEMPLATE_TEXT} to the template's tree"
    )
