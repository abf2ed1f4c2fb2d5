"""Where a checked project came from: the template and version its copier answers file
records (`_src_path`, `_commit`), whatever the file is named (see answers_file)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from asgigen import answers_file
from asgigen.errors import BadInputError


def origin(project: Path, given: Path | None = None) -> dict[str, Any] | None:
    """The answers file of `project` (or of `given`, the directory the user named, when the
    project sits in a subfolder of it): its path relative to the project, template and
    version. None when there is none, several, or it cannot be read."""
    import yaml  # lazy: 10-35 ms to import

    for folder in dict.fromkeys([project, *([given] if given is not None else [])]):
        try:
            path = answers_file.find(folder)
        except BadInputError:
            continue
        try:
            answers = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return None
        if not isinstance(answers, dict):
            return None
        return {
            "file": Path(os.path.relpath(path, project)).as_posix(),
            "template": answers.get("_src_path"),
            "version": answers.get("_commit"),
        }
    return None


def describe(found: dict[str, Any] | None) -> str:
    """`check`'s `template` line: the template and version the answers file names, and which
    file said so (`built-in 0.4.0 (from .copier-answers.yml)`)."""
    if found is None:
        return "unknown (no answers file)"
    source = found.get("template")
    name = "built-in" if source == "asgigen:builtin" else str(source or "unnamed template")
    version = found.get("version")
    said = f"{name} {version}" if version else f"{name}, no version recorded"
    return f"{said} (from {found['file']})"
