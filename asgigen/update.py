"""`asgigen update`: bring a newer template into a generated project with a three-way merge.

copier merges by rendering the template version a project was made with and the version it
moves to, then applying the owner's changes (the project against the first) to the second.
So it needs a git repository of template versions: for a template from a directory or a git
URL, the template's own repository and tags; for the built-in template, a throwaway repository
built from the versions asgigen ships (`asgigen.template_history`) plus the live template.

Whatever copier does, an update never loses a committed change silently: files it leaves in
conflict, with rejected hunks, or that it would delete although the owner changed them are
reported (exit 1), and the owner's version of a dropped file is kept or merged into its new
place.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from asgigen import (
    answers_file,
    copier_adapter,
    generate,
    git,
    processes,
    template,
    template_history,
)
from asgigen.add import reapply
from asgigen.answers_file import find
from asgigen.errors import BadInputError, TemplateError
from asgigen.errors import last_line as _last_line
from asgigen.generate import ANSWERS_FILE, BUILTIN_SOURCE, load_yaml, record_builtin_source

if TYPE_CHECKING:
    from packaging.version import Version

# `update --check` exits with this code when a newer template version exists.
EXIT_BEHIND = 3
_GIT_IDENTITY = ["-c", "user.name=asgigen", "-c", "user.email=asgigen@localhost"]
_CONFLICT_MARKER = re.compile(rb"^(<<<<<<<|>>>>>>>) ", re.M)
Conflict = Literal["inline", "rej"]


@dataclass(frozen=True)
class TemplateVersion:
    """One version of the built-in template as a directory (tests give their own history)."""

    version: str
    source: Path


@dataclass
class UpdateResult:
    path: Path
    old_version: str | None
    new_version: str | None
    changed: list[str] = field(default_factory=list)
    # project-relative path → why it needs the owner's attention
    conflicts: dict[str, str] = field(default_factory=dict)
    changes: dict[str, str] = field(default_factory=dict)  # changelog entries crossed
    pretend: bool = False


@dataclass
class UpdateCheck:
    path: Path
    current: str | None
    latest: str | None
    changes: dict[str, str] = field(default_factory=dict)

    @property
    def behind(self) -> bool:
        if self.latest is None:
            return False
        if self.current is None:
            return True
        return _pep440(self.latest) > _pep440(self.current)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": str(self.path),
            "current_version": self.current,
            "latest_version": self.latest,
            "update_available": self.behind,
            "changes": self.changes,
        }


def _pep440(version: str) -> Version:
    """copier's reading of a version: a tag, or `git describe`'s tag-count-ghash."""
    from packaging.version import InvalidVersion, Version  # lazy: 10-20 ms to import

    described = re.fullmatch(r"(.+)-(\d+)-g(\w+)", version)
    try:
        if described:
            return Version(f"{described[1]}.post{described[2]}+{described[3]}")
        return Version(version)
    except InvalidVersion:
        return Version("0")


def _git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return git.run(*_GIT_IDENTITY, *args, cwd=cwd)


def _project(path: Path) -> Path:
    project = path.expanduser().absolute()
    if not project.is_dir():
        raise BadInputError(f"{project} is not a directory")
    return project


def _read_answers(project: Path) -> dict[str, Any]:
    import yaml  # lazy: 10-35 ms to import

    answers_file = find(project)  # `_answers_file` may have named it otherwise
    try:
        loaded = load_yaml(answers_file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        raise BadInputError(f"{answers_file} is not valid YAML") from None
    if not isinstance(loaded, dict):
        raise BadInputError(f"{answers_file} does not hold a mapping of answers")
    return loaded


# Untracked files an update leaves alone, so they don't block it: the lock file `uv run` (the
# run command `new` prints) writes. The template renders no such file, so the merge never
# touches it; uv locks again on its next run if the update changed the dependencies.
TOLERATED_UNTRACKED = ("uv.lock",)


def _require_git(project: Path) -> None:
    """A git repository with a commit: what the merge (and --pretend's clone) needs."""
    if shutil.which("git") is None:
        raise BadInputError(
            "git is not installed; updating needs it for the three-way merge",
            hint="install git, then run asgigen update again",
        )
    cd = f"cd {shlex.quote(str(project))}"
    inside = _git("rev-parse", "--is-inside-work-tree", cwd=project)
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        raise BadInputError(
            f"{project} is not a git repository; the update merge needs one",
            hint=f"{cd} && git init && git add -A && git commit -m 'Initial commit'",
        )
    if _git("rev-parse", "--verify", "--quiet", "HEAD", cwd=project).returncode != 0:
        raise BadInputError(
            f"{project} has no commits yet",
            hint=f"{cd} && git add -A && git commit -m 'Initial commit'",
        )


def _require_clean_git(project: Path) -> list[str]:
    """A repository with a commit and no uncommitted change, but for the tolerated untracked
    files, which are returned (project-relative). The error names the files."""
    _require_git(project)
    cd = f"cd {shlex.quote(str(project))}"
    dirty: list[str] = []
    tolerated: list[str] = []
    for code, relative in _status_entries(project):
        if code == "??" and relative in TOLERATED_UNTRACKED:
            tolerated.append(relative)
        else:
            dirty.append(relative)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise BadInputError(
            f"{project} has uncommitted changes ({shown}); update needs a clean tree to merge into",
            hint=f"{cd} && git add -A && git commit -m 'Before template update' (or git stash)",
        )
    return tolerated


@contextlib.contextmanager
def _set_aside(project: Path, names: list[str]) -> Iterator[None]:
    """Move the tolerated untracked files out of the tree while copier merges (it refuses any
    untracked file), into the repository's own directory, and always put them back."""
    if not names:
        yield
        return
    git_dir = Path(_git("rev-parse", "--absolute-git-dir", cwd=project).stdout.strip())
    aside = Path(tempfile.mkdtemp(prefix="asgigen-update-", dir=git_dir))
    moved: list[str] = []
    try:
        with processes.deferred():
            for index, name in enumerate(names):
                os.replace(project / name, aside / str(index))
                moved.append(name)
        yield
    finally:
        with processes.deferred():  # however it ends, the owner's files come back
            for index, name in enumerate(moved):
                if (project / name).exists():  # the template now ships one: yours is kept
                    os.replace(project / name, project / f"{name}.template")
                os.replace(aside / str(index), project / name)
            shutil.rmtree(aside, ignore_errors=True)


@dataclass
class _Source:
    url: str  # what copier clones: the template's own, or a throwaway history repository
    old: str  # the version the project was made with (`_commit`)
    new: str | None  # the version to move to; None: the newest tag (copier's rule)
    builtin: bool


def _history_repo(history: list[TemplateVersion] | None, into: Path) -> Path:
    if history is None:
        live = template_history.template_version()
        return template_history.build_repo(into, template.builtin_template(), live)
    template_history.open_repo(into, bundle=None)
    for entry in history:
        template_history.commit_version(into, entry.source, entry.version)
    return into


@contextlib.contextmanager
def _template_source(
    answers: Mapping[str, Any], vcs_ref: str | None, history: list[TemplateVersion] | None
) -> Iterator[_Source]:
    source = answers.get("_src_path")
    old = answers.get("_commit")
    if not isinstance(source, str) or not source:
        raise BadInputError(f"{ANSWERS_FILE} does not record which template made the project")
    if source != BUILTIN_SOURCE:
        if not old:
            raise BadInputError(
                f"{ANSWERS_FILE} records no template version (`_commit`): the project was made "
                f"from {source}, which was not a git repository, so there is no version to "
                "merge from",
                hint="updates need a template in git with a tag per release; "
                "`copier recopy` re-renders without a merge",
            )
        yield _Source(source, str(old), vcs_ref, builtin=False)
        return
    with tempfile.TemporaryDirectory(prefix="asgigen-template-history-") as tmp:
        repo = _history_repo(history, Path(tmp) / "template")
        versions = sorted(
            _git("tag", "--list", cwd=repo).stdout.split(), key=template_history.version_key
        )
        hint = f"known versions: {', '.join(versions)}"
        if str(old or "") not in versions:
            raise BadInputError(
                f"the project was made with template version {old or '(none)'}, which this "
                "asgigen does not carry",
                hint=f"{hint}; install the asgigen that made it, or a newer one",
            )
        if vcs_ref is not None and vcs_ref not in versions:
            raise BadInputError(f"--vcs-ref {vcs_ref}: no such template version", hint=hint)
        yield _Source(str(repo), str(old), vcs_ref or versions[-1], builtin=True)


def update_project(
    path: Path,
    *,
    data: Mapping[str, Any] | None = None,
    vcs_ref: str | None = None,
    ask: bool = False,
    skip_answered: bool = False,
    conflict: Conflict = "inline",
    history: list[TemplateVersion] | None = None,
) -> UpdateResult:
    """Re-apply the template to the project at `path`; the result names any conflicts."""
    from copier.errors import CopierError, TaskError, UserMessageError  # lazy: 0.6 s to import

    project = _project(path)
    answers = _read_answers(project)
    tolerated = _require_clean_git(project)
    with _set_aside(project, tolerated), _template_source(answers, vcs_ref, history) as source:
        with template.load(source.url, source.new) as new:
            typed = generate.validate_answers(new.questions, data or {}, builtin=source.builtin)
            try:
                copier_adapter.run_update(
                    project,
                    new.loaded,
                    data=typed,
                    ask=ask,
                    skip_answered=skip_answered,
                    conflict=conflict,
                    old=(source.url, source.old) if source.builtin else None,
                    answers_file=answers_file.relative(project, answers_file.find(project)),
                )
            except ValueError as err:  # a copier validator or a cast rejected an answer
                raise BadInputError(_last_line(str(err))) from None
            except TaskError as err:  # a UserMessageError too: named with what to do
                raise copier_adapter.task_failed(err) from None
            except UserMessageError as err:
                raise BadInputError(f"cannot update: {_last_line(str(err))}") from None
            except CopierError as err:
                raise TemplateError(f"update failed: {_last_line(str(err))}") from None
            # What `asgigen add` added and the merge lost (a file the release rewrote) goes
            # back, from the new release's generators.

            reapplied = reapply(project, new.path, new.declaration.generators)
        if source.builtin:
            record_builtin_source(project / ANSWERS_FILE, new.loaded.commit)
        recorded = _read_answers(project).get("_commit")
        new_version = None if recorded is None else str(recorded)
        changed, deleted = _status(project)
        conflicts = _conflicts(project, changed, conflict) | reapplied
        if deleted:
            conflicts |= _keep_dropped_edits(project, deleted, changed, source, answers)
            changed, _ = _status(project)
    changes = (
        template_history.changes_between(source.old, new_version)
        if source.builtin and new_version
        else {}
    )
    return UpdateResult(project, source.old, new_version, changed, conflicts, changes)


def _status_entries(project: Path, *options: str) -> list[tuple[str, str]]:
    """`git status --porcelain -z` for the project's files: each entry's two-letter code and
    its path relative to the project (git reports paths from the repository's root)."""
    top = Path(_git("rev-parse", "--show-toplevel", cwd=project).stdout.strip()).resolve()
    status = _git("status", "--porcelain", "-z", *options, "--", ".", cwd=project).stdout
    found: list[tuple[str, str]] = []
    entries = iter(status.split("\0"))
    for entry in entries:
        if not entry:
            continue
        code, name = entry[:2], entry[3:]
        if "R" in code or "C" in code:
            next(entries, None)  # the rename's source path follows
        found.append((code, (top / name).relative_to(project.resolve()).as_posix()))
    return found


def _status(project: Path) -> tuple[list[str], list[str]]:
    """(changed, deleted) paths relative to the project, untracked files one by one."""
    changed: list[str] = []
    deleted: list[str] = []
    for code, relative in _status_entries(project, "--untracked-files=all"):
        changed.append(relative)
        if "D" in code:
            deleted.append(relative)
    return sorted(changed), sorted(deleted)


def _conflicts(project: Path, changed: list[str], mode: Conflict) -> dict[str, str]:
    unmerged = _git("ls-files", "--unmerged", "-z", "--", ".", cwd=project).stdout
    found = {
        entry.split("\t", 1)[1]: "changed by you and by the template: resolve the markers"
        for entry in unmerged.split("\0")
        if "\t" in entry
    }
    for name in changed:
        file = project / name
        if name.endswith(".rej") and mode == "rej":
            found[name.removesuffix(".rej")] = f"hunks the merge rejected are in {name}"
        elif name not in found and file.is_file() and _has_markers(file):
            found[name] = "changed by you and by the template: resolve the markers"
    return found


def _keep_dropped_edits(
    project: Path,
    deleted: list[str],
    changed: list[str],
    source: _Source,
    answers: Mapping[str, Any],
) -> dict[str, str]:
    """Files the update deleted although the owner changed or added them: never lose those.

    copier deletes what the old version rendered and the new one doesn't (a renamed package,
    a removed file) including the owner's edits there. Each such edit is merged into the file
    that took its place (same name, most similar content), or the owner's file is kept.
    """
    from copier import run_copy  # lazy: 0.6 s to import

    with tempfile.TemporaryDirectory(prefix="asgigen-old-render-") as tmp:
        old_render = Path(tmp) / "old"
        last = {key: value for key, value in answers.items() if not key.startswith("_")}
        run_copy(
            source.url,
            old_render,
            data=last,
            vcs_ref=source.old,
            defaults=True,
            overwrite=True,
            quiet=True,
            unsafe=True,
        )
        added = [name for name in changed if name not in deleted and _is_new(project, name)]
        kept: dict[str, str] = {}
        for name in deleted:
            shown = git.run_binary("show", f"HEAD:./{name}", cwd=project)
            shown.check_returncode()
            yours = shown.stdout
            base = old_render / name
            if base.is_file() and base.read_bytes() == yours:
                continue  # unchanged by the owner: the template may drop it
            target = _successor(name, base, added, project)
            if target is None:
                _git("checkout", "HEAD", "--", name, cwd=project)
                kept[name] = (
                    f"yours, kept: template {source.new or 'newest'} no longer has this file; "
                    "move or delete it"
                )
                continue
            kept[target] = _merge_into(project, target, name, base, yours)
    return kept


def _is_new(project: Path, name: str) -> bool:
    return _git("cat-file", "-e", f"HEAD:./{name}", cwd=project).returncode != 0


def _successor(name: str, base: Path, added: list[str], project: Path) -> str | None:
    """The new file most like the dropped one: same file name, similar template content."""
    if not base.is_file():
        return None
    old_text = base.read_text(encoding="utf-8", errors="replace")
    scored = [
        (difflib.SequenceMatcher(None, old_text, (project / new).read_text(errors="replace"))
         .ratio(), new)
        for new in added
        if Path(new).name == Path(name).name and (project / new).is_file()
    ]  # fmt: skip
    best = max(scored, default=(0.0, ""))
    return best[1] if best[0] >= 0.5 else None


def _merge_into(project: Path, target: str, name: str, base: Path, yours: bytes) -> str:
    """Merge the owner's edit of `name` into its successor `target`; say what happened."""
    with tempfile.TemporaryDirectory(prefix="asgigen-merge-") as tmp:
        ours = Path(tmp) / "yours"
        ours.write_bytes(yours)
        merged = git.run_binary(
            "merge-file", "-p", "-L", "before updating", "-L", "last update",
            "-L", "after updating", str(ours), str(base), str(project / target), cwd=Path(tmp),
        )  # fmt: skip
    if merged.returncode < 0 or merged.returncode > 127:
        raise TemplateError(f"could not merge your edit of {name} into {target}")
    (project / target).write_bytes(merged.stdout)
    how = "with conflicts: resolve the markers" if merged.returncode else "cleanly: review it"
    return f"your edit of {name} (which the template moved here) was merged in {how}"


def _has_markers(path: Path) -> bool:
    try:
        return bool(_CONFLICT_MARKER.search(path.read_bytes()))
    except OSError:
        return False


def preview_update(
    path: Path,
    *,
    data: Mapping[str, Any] | None = None,
    vcs_ref: str | None = None,
    conflict: Conflict = "inline",
    history: list[TemplateVersion] | None = None,
) -> UpdateResult:
    """What `update` would change, found by updating a throwaway clone of the project."""
    project = _project(path)
    _read_answers(project)
    _require_git(project)  # the clone holds the last commit: uncommitted changes don't matter
    top = _git("rev-parse", "--show-toplevel", cwd=project).stdout.strip()
    inner = project.resolve().relative_to(Path(top).resolve())
    with tempfile.TemporaryDirectory(prefix="asgigen-pretend-") as tmp:
        clone = Path(tmp) / "clone"
        cloned = _git("clone", "--quiet", "--no-hardlinks", top, str(clone), cwd=project)
        if cloned.returncode != 0:
            raise TemplateError(f"could not copy the project to preview: {cloned.stderr.strip()}")
        result = update_project(
            clone / inner, data=data, vcs_ref=vcs_ref, conflict=conflict, history=history
        )
    result.path = project
    result.pretend = True
    return result


def check_update(path: Path, *, history: list[TemplateVersion] | None = None) -> UpdateCheck:
    """Is the project on its template's newest version? (what `copier check-update` tells)."""
    project = _project(path)
    answers = _read_answers(project)
    current = None if answers.get("_commit") is None else str(answers["_commit"])
    if answers.get("_src_path") == BUILTIN_SOURCE:  # the live template is the newest version
        latest = history[-1].version if history else template_history.template_version()
        changes = template_history.changes_between(current or "0", latest)
        return UpdateCheck(project, current, latest, changes)
    with _template_source(answers, None, history) as source, template.load(source.url) as newest:
        return UpdateCheck(project, current, newest.loaded.commit)
