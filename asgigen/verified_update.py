"""A verified update: merge in a scratch clone, prove the clone, write only a green result.

`asgigen update` clones the project's repository into a scratch directory, runs copier's
three-way merge there (`update.update_project`), then the project's own proof on the merged
copy (`check.run_checks`: its gates, its tests, its boot with probes). Only when every step
passed are the merged changes applied to the project, as a diff of the clone against the
commit it was cloned from: the files the merge changed, added or removed, nothing else, left
uncommitted for `git diff` review as a plain update leaves them. When the proof is red the
project is untouched and the merged copy is kept for inspection.

Conflicts come before any proof: they are written into the project as a plain update writes
them (markers or .rej files for the owner to resolve), and nothing is proved.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asgigen import git, update
from asgigen.check import run_checks
from asgigen.console import Console
from asgigen.errors import BadInputError, CheckFailedError, TemplateError

if TYPE_CHECKING:
    from asgigen.check import CheckReport

# The merge's own bytes, whatever the user's apply.whitespace setting says about them.
_APPLY = ["--binary", "--whitespace=nowarn"]
# pytest's short summary (`-r fE`, its default): one line per failed or erroring test.
_FAILED_TEST = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.M)


@dataclass
class VerifiedUpdate:
    result: update.UpdateResult
    report: CheckReport | None = None  # None: nothing was proved (see `unproved`)
    unproved: str = ""  # why there is no proof: --no-verify, nothing changed, conflicts
    scratch: Path | None = None  # the merged copy, kept when the proof is red

    @property
    def ok(self) -> bool:
        return self.report is None or self.report.ok


def _git(*args: str, cwd: Path, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return git.run_binary(*update._GIT_IDENTITY, *args, cwd=cwd, stdin=data)


def _top(path: Path) -> Path:
    found = _git("rev-parse", "--show-toplevel", cwd=path)
    return Path(found.stdout.decode().strip()).resolve()


def verified_update(
    path: Path,
    *,
    data: Mapping[str, Any] | None = None,
    vcs_ref: str | None = None,
    ask: bool = False,
    skip_answered: bool = False,
    conflict: update.Conflict = "inline",
    verify: bool = True,
    pretend: bool = False,
    servers: list[str] | None = None,
    console: Console | None = None,
    history: list[update.TemplateVersion] | None = None,
) -> VerifiedUpdate:
    """Merge in a scratch clone, prove it (unless `verify` is off), write it when green.

    With `pretend`, nothing is written. The scratch clone is removed unless the proof is red.
    """
    console = console or Console()
    project = update._project(path)
    update._read_answers(project)
    update._require_clean_git(project)
    top = _top(project)
    inner = project.resolve().relative_to(top)
    scratch = Path(tempfile.mkdtemp(prefix="asgigen-update-"))
    keep = False
    try:
        clone = scratch / project.name
        cloned = _git("clone", "--quiet", "--no-hardlinks", str(top), str(clone), cwd=project)
        if cloned.returncode != 0:
            raise TemplateError(
                f"could not copy the project to merge in: {cloned.stderr.decode().strip()}"
            )
        merged_at = clone / inner
        result = update.update_project(
            merged_at,
            data=data,
            vcs_ref=vcs_ref,
            ask=ask,
            skip_answered=skip_answered,
            conflict=conflict,
            history=history,
        )
        result.path = project
        result.pretend = pretend
        outcome = VerifiedUpdate(result)
        if result.conflicts:
            outcome.unproved = "conflicts: nothing proved"
            if not pretend:
                again = dict(data or {})
                if ask:  # the answers given at the prompts, so they are not asked twice
                    again = update._read_answers(merged_at)
                _merge_with_conflicts(project, again, result, conflict, history)
            return outcome
        if not result.changed:
            outcome.unproved = "nothing changed: nothing to prove"
            return outcome
        patch, untracked, staged = _changes(merged_at)  # before the proof writes anything
        if not verify:
            outcome.unproved = "not proved (--no-verify)"
        else:
            console.info(f"  proving    the merged copy in {merged_at}")
            try:
                outcome.report = run_checks(merged_at, servers=servers, console=console)
            except BadInputError as err:  # the merged project has no pyproject, a bad contract
                keep, kept = True, shlex.quote(str(merged_at))
                raise CheckFailedError(
                    f"update to template {result.new_version} "
                    + ("would fail" if pretend else "not applied, the project is unchanged")
                    + f": the merged project cannot be checked: {err.message}",
                    hint=f"the merged copy is kept for inspection: cd {kept}",
                ) from None
            if not outcome.report.ok:
                keep = True
                outcome.scratch = merged_at
                return outcome
        if not pretend:
            _apply(top, merged_at, patch, untracked, staged)
        return outcome
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)


def _changes(clone: Path) -> tuple[bytes, list[str], list[str]]:
    """What the merge did in `clone`: the diff of tracked files against HEAD (binary-safe),
    the new files git does not track yet, and the paths the merge staged (repo-relative)."""
    patch = _git("diff", "--binary", "--no-renames", "HEAD", "--", ".", cwd=clone).stdout
    others = _git("ls-files", "-z", "--others", "--exclude-standard", "--full-name", "--", ".",
                  cwd=clone).stdout  # fmt: skip
    staged = _git("diff", "-z", "--cached", "--name-only", "--no-renames", "HEAD", "--", ".",
                  cwd=clone).stdout  # fmt: skip
    return (
        patch,
        [name for name in others.decode().split("\0") if name],
        [name for name in staged.decode().split("\0") if name],
    )


def _apply(top: Path, clone: Path, patch: bytes, untracked: list[str], staged: list[str]) -> None:
    """Write the merged changes into the project's work tree, staged as the merge staged them.

    `git apply --check` first: if the patch does not apply (the project moved meanwhile),
    nothing is written. New files are never written over a file that is already there.
    """
    clone_top = _top(clone)
    clashes = [name for name in untracked if (top / name).exists()]
    if clashes:
        raise TemplateError(
            f"the update adds {', '.join(clashes)}, which already exist(s) in the project "
            "(ignored by git); nothing was written",
            hint="move those files away, then run asgigen update again",
        )
    if patch:
        checked = _git("apply", "--check", *_APPLY, cwd=top, data=patch)
        if checked.returncode != 0:
            raise TemplateError(
                "the merged changes no longer apply to the project; nothing was written: "
                + checked.stderr.decode().strip().splitlines()[-1]
            )
        applied = _git("apply", *_APPLY, cwd=top, data=patch)
        if applied.returncode != 0:  # pragma: no cover - `--check` said it applies
            raise TemplateError(f"applying the update failed: {applied.stderr.decode().strip()}")
    for name in untracked:
        (top / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(clone_top / name, top / name)
    if staged:
        _git("add", "--all", "--", *staged, cwd=top)


def _merge_with_conflicts(
    project: Path,
    answers: Mapping[str, Any],
    result: update.UpdateResult,
    conflict: update.Conflict,
    history: list[update.TemplateVersion] | None,
) -> None:
    """Conflicts go to the owner as a plain update leaves them (markers, unmerged index
    entries): the same merge again, in the project, with the same answers."""
    given = {key: value for key, value in answers.items() if not key.startswith("_")}
    again = update.update_project(
        project,
        data=given,
        vcs_ref=result.new_version,
        conflict=conflict,
        history=history,
    )
    result.changed, result.conflicts = again.changed, again.conflicts


def failed_names(report: CheckReport) -> list[str]:
    """What failed, named for the user: each failing step, with the test ids for tests."""
    names = []
    for step in report.failures:
        tests = _FAILED_TEST.findall(step.output) if step.name == "tests" else []
        what = f"{step.name} {step.status}: {step.summary}"
        names.append(f"{what} ({', '.join(dict.fromkeys(tests))})" if tests else what)
    return names
