"""`asgigen update`: bring a newer template into a generated project with a three-way merge.

copier merges by regenerating the project from the template version it was made with and
diffing that against the newer one, so it needs a git repository of template versions. The
built-in template has no repository on the user's machine: its released versions ship inside
the package (`template_history/<version>.tar.gz`, plus the live tree as the current version),
and update builds a throwaway repository from them, one tagged commit per version. Nothing is
fetched, and the project's answers file names the template, not a path on one machine.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asgigen.errors import BadInputError, TemplateError, UpdateConflictError
from asgigen.generate import (
    ANSWERS_FILE,
    BUILTIN_SOURCE,
    builtin_template,
    load_yaml,
    record_builtin_source,
)

HISTORY_DIR = Path(__file__).resolve().parent / "template_history"
_GIT_IDENTITY = ["-c", "user.name=asgigen", "-c", "user.email=asgigen@localhost"]
_CONFLICT_MARKER = re.compile(r"^<<<<<<< ", re.M)


@dataclass(frozen=True)
class TemplateVersion:
    version: str
    source: Path  # a template directory or a .tar.gz of one


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def builtin_history() -> list[TemplateVersion]:
    """Every shipped version of the built-in template, oldest first; the live tree is newest."""
    from asgigen import __version__

    versions = {
        path.name.removesuffix(".tar.gz"): TemplateVersion(path.name.removesuffix(".tar.gz"), path)
        for path in HISTORY_DIR.glob("*.tar.gz")
    }
    versions[__version__] = TemplateVersion(__version__, builtin_template())
    return sorted(versions.values(), key=lambda v: _version_key(v.version))


def _git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *_GIT_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def _unpack(source: Path, into: Path) -> None:
    if source.is_dir():
        shutil.copytree(
            source,
            into,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".git"),
        )
        return
    with tarfile.open(source) as archive:
        archive.extractall(into, filter="data")


def build_history_repo(history: list[TemplateVersion], into: Path) -> Path:
    """A git repository with one commit per template version, tagged with the version."""
    into.mkdir(parents=True, exist_ok=True)
    _git("init", "--quiet", cwd=into)
    for entry in history:
        for child in into.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        _unpack(entry.source, into)
        _git("add", "--all", cwd=into)
        result = _git(
            "commit", "--quiet", "--allow-empty", "-m", f"template {entry.version}", cwd=into
        )
        if result.returncode != 0:
            raise TemplateError(
                f"could not record template version {entry.version}: {result.stderr.strip()}"
            )
        _git("tag", entry.version, cwd=into)
    return into


def snapshot(template: Path, version: str, into: Path = HISTORY_DIR) -> Path:
    """Archive `template` as the released `version` (run at release time)."""
    into.mkdir(parents=True, exist_ok=True)
    archive_path = into / f"{version}.tar.gz"

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if "__pycache__" in info.name or info.name.endswith(".pyc"):
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        return info

    with tarfile.open(archive_path, "w:gz") as archive:
        for child in sorted(template.iterdir()):
            archive.add(child, arcname=child.name, filter=keep)
    return archive_path


@dataclass
class UpdateResult:
    path: Path
    old_version: str | None
    new_version: str | None
    changed: list[str] = field(default_factory=list)
    pretend: bool = False


def _read_answers(project: Path) -> dict[str, Any]:
    import yaml

    answers_file = project / ANSWERS_FILE
    if not answers_file.is_file():
        raise BadInputError(
            f"{project} has no {ANSWERS_FILE}, so it was not generated from a template",
            hint="asgigen update works on projects made by `asgigen new` or copier",
        )
    try:
        loaded = load_yaml(answers_file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        raise BadInputError(f"{answers_file} is not valid YAML") from None
    if not isinstance(loaded, dict):
        raise BadInputError(f"{answers_file} does not hold a mapping of answers")
    return loaded


def _require_clean_git(project: Path) -> None:
    if shutil.which("git") is None:
        raise BadInputError(
            "git is not installed; updating needs it for the three-way merge",
            hint="install git, then run asgigen update again",
        )
    inside = _git("rev-parse", "--is-inside-work-tree", cwd=project)
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        raise BadInputError(
            f"{project} is not a git repository; the update merge needs one",
            hint=f"cd {project} && git init && git add -A && git commit -m 'Initial commit'",
        )
    if _git("rev-parse", "--verify", "--quiet", "HEAD", cwd=project).returncode != 0:
        raise BadInputError(
            f"{project} has no commits yet",
            hint=f"cd {project} && git add -A && git commit -m 'Initial commit'",
        )
    if _git("status", "--porcelain", "--", ".", cwd=project).stdout.strip():
        raise BadInputError(
            f"{project} has uncommitted changes; update needs a clean tree to merge into",
            hint=f"cd {project} && git add -A && git commit -m 'Before template update'"
            " (or git stash)",
        )


def _changed_files(project: Path) -> list[str]:
    status = _git("status", "--porcelain", "--untracked-files=all", "--", ".", cwd=project)
    return sorted(line[3:].strip().strip('"') for line in status.stdout.splitlines() if line)


@contextlib.contextmanager
def _template_source(
    answers: Mapping[str, Any], history: list[TemplateVersion] | None
) -> Iterator[tuple[str, str | None, str | None]]:
    """(source for copier, old ref, new ref); for the built-in template a temporary repo."""
    source = answers.get("_src_path")
    if source != BUILTIN_SOURCE:
        if not isinstance(source, str) or not source:
            raise BadInputError(f"{ANSWERS_FILE} does not record which template made the project")
        yield source, None, None
        return
    history = history if history is not None else builtin_history()
    old = str(answers.get("_commit", ""))
    known = [entry.version for entry in history]
    if old not in known:
        raise BadInputError(
            f"the project was made with template version {old or '(none)'}, which this asgigen "
            "does not carry",
            hint=f"known versions: {', '.join(known)}; "
            "install the asgigen that made it, or a newer one",
        )
    with tempfile.TemporaryDirectory(prefix="asgigen-template-history-") as tmp:
        repo = build_history_repo(history, Path(tmp) / "template")
        yield str(repo), old, known[-1]


def update_project(
    path: Path,
    *,
    data: Mapping[str, Any] | None = None,
    defaults: bool = True,
    pretend: bool = False,
    history: list[TemplateVersion] | None = None,
) -> UpdateResult:
    """Re-apply the template to the project at `path`; raise UpdateConflictError on conflicts."""
    from copier._main import Worker  # run_update() has no way to name the old template
    from copier._template import Template
    from copier.errors import CopierError

    project = path.expanduser().absolute()
    if not project.is_dir():
        raise BadInputError(f"{project} is not a directory")
    answers = _read_answers(project)
    _require_clean_git(project)
    with _template_source(answers, history) as (source, old_ref, new_ref):
        worker = Worker(
            src_path=source,
            dst_path=project,
            vcs_ref=new_ref,
            data=dict(data or {}),
            defaults=defaults,
            overwrite=True,
            pretend=pretend,
            quiet=True,
            unsafe=True,
            conflict="inline",
        )
        try:
            with worker:
                if old_ref is not None:
                    # The answers name the template, not a path: show copier where it lives now.
                    worker.subproject.__dict__["template"] = Template(url=source, ref=old_ref)
                worker.run_update()
        except ValueError as err:
            raise BadInputError(str(err).strip().splitlines()[-1]) from None
        except CopierError as err:
            raise TemplateError(f"update failed: {err}") from None
    if old_ref is not None and not pretend:
        record_builtin_source(project / ANSWERS_FILE, new_ref)
    changed = [] if pretend else _changed_files(project)
    result = UpdateResult(project, old_ref or answers.get("_commit"), new_ref, changed, pretend)
    conflicted = [
        name for name in changed if (project / name).is_file() and _has_markers(project / name)
    ]
    if conflicted:
        raise UpdateConflictError(
            f"update left conflicts in {len(conflicted)} file(s): {', '.join(conflicted)}",
            hint="resolve the <<<<<<< markers, then git add and commit",
        )
    return result


def preview_update(
    path: Path,
    *,
    data: Mapping[str, Any] | None = None,
    history: list[TemplateVersion] | None = None,
) -> UpdateResult:
    """What `update` would change, found by updating a throwaway clone of the project."""
    project = path.expanduser().absolute()
    if not project.is_dir():
        raise BadInputError(f"{project} is not a directory")
    _read_answers(project)
    _require_clean_git(project)
    top = _git("rev-parse", "--show-toplevel", cwd=project).stdout.strip()
    inner = project.resolve().relative_to(Path(top).resolve())
    with tempfile.TemporaryDirectory(prefix="asgigen-pretend-") as tmp:
        clone = Path(tmp) / "clone"
        cloned = _git("clone", "--quiet", "--no-hardlinks", top, str(clone), cwd=project)
        if cloned.returncode != 0:
            raise TemplateError(f"could not copy the project to preview: {cloned.stderr.strip()}")
        try:
            result = update_project(clone / inner, data=data, history=history)
        except UpdateConflictError as err:
            raise UpdateConflictError(
                err.message.replace("update left", "update would leave"), hint=None
            ) from None
    result.path = project
    result.pretend = True
    return result


def _has_markers(path: Path) -> bool:
    try:
        return bool(_CONFLICT_MARKER.search(path.read_text(encoding="utf-8")))
    except (UnicodeDecodeError, OSError):
        return False
