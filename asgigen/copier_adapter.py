"""The one module that reaches into copier beyond its public API.

copier's public API is `run_copy`, `run_update` and `run_recopy`. asgigen needs three things
they don't offer: the template's questions and settings before rendering (to check answers and
read `_asgigen`), rendering from a template it has already cloned (one clone, not two), and
skipping a per-file git query that is a no-op in a fresh directory; an update also does once
what copier's update repeats (clones, compiles, that query). Each hook below names the copier
internal it relies on; tests/test_copier_adapter.py and tests/test_update_copier_work.py pin
them across the supported copier range.
"""

from __future__ import annotations

import contextlib
import functools
import shlex
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from asgigen import git
from asgigen.errors import TemplateError
from asgigen.task_output import to_stderr


@dataclass
class LoadedTemplate:
    """A copier template on disk (cloned if it came from git) and what it declares."""

    url: str  # as the user gave it; what the answers file records as `_src_path`
    ref: str | None  # the git ref asked for; None: the newest tag (copier's rule)
    path: Path  # a local directory holding copier.yml
    commit: str | None  # copier's description of the version used (`_commit`), if git
    config: dict[str, Any]  # the whole copier.yml, `_asgigen` and other settings included
    questions: dict[str, dict[str, Any]]  # question name → its copier settings
    handle: Any  # copier's Template object, reused when rendering


@contextlib.contextmanager
def open_template(url: str, ref: str | None = None) -> Iterator[LoadedTemplate]:
    """Load (and for git, clone) a template; the clone is removed on exit.

    Private hooks: `copier._template.Template` (its `local_abspath`, `_raw_config`,
    `questions_data`, `commit` and `_cleanup`).
    """
    from copier._template import Template  # lazy: 0.6 s to import

    template = Template(url=url, ref=ref)
    try:
        path = template.local_abspath
        raw = template._raw_config
        questions = {
            name: spec if isinstance(spec, dict) else {"default": spec}
            for name, spec in template.questions_data.items()
        }
        yield LoadedTemplate(
            url=url,
            ref=ref,
            path=path,
            commit=template.commit,
            config=dict(raw),
            questions=questions,
            handle=template,
        )
    finally:
        template._cleanup()


def render(
    template: LoadedTemplate,
    destination: Path,
    answers: Mapping[str, Any],
    *,
    ask: bool,
    trust: bool,
) -> dict[str, Any]:
    """Render `template` into the fresh directory `destination`; return the answers used.

    copier's own exceptions propagate (the caller turns them into asgigen's errors).
    Private hooks: `copier._main.Worker` (its `template` cached property is preset with the
    already-loaded template, and `_sync_git_index_executable_bit` is skipped).
    """
    worker_class = _fresh_copy_worker()
    with worker_class(
        src_path=template.url,
        dst_path=destination,
        vcs_ref=template.ref,
        data=dict(answers),
        defaults=not ask,
        unsafe=trust,
        quiet=True,
        overwrite=True,
    ) as worker:
        worker.__dict__["template"] = template.handle  # one clone, not two

        with contextlib.nullcontext() if ask else to_stderr():  # its tasks' output: stderr
            worker.run_copy()
        combined = dict(worker.answers.combined)
    return {key: value for key, value in combined.items() if not key.startswith("_")}


@functools.cache
def _fresh_copy_worker() -> type[Any]:
    """copier's Worker, minus a git query per rendered file that a fresh copy never needs.

    After writing each file copier asks git for `core.fileMode` (one subprocess per file,
    about 2 ms each) so that it can fix executable bits in the destination's git index. A new
    project is rendered into a fresh staging directory whose files no index tracks yet, so
    that sync is a no-op by definition; `asgigen update` keeps copier's own behaviour.
    """
    from copier._main import Worker  # lazy: 0.6 s to import

    class FreshCopyWorker(Worker):
        def _sync_git_index_executable_bit(self, dst_relpath: Path, src_mode: int) -> None:
            return None

    return FreshCopyWorker


# --- update


def run_update(
    project: Path,
    template: LoadedTemplate,
    *,
    data: Mapping[str, Any],
    ask: bool,
    skip_answered: bool,
    conflict: Literal["inline", "rej"],
    old: tuple[str, str] | None = None,
    answers_file: str | None = None,
) -> None:
    """copier's three-way update of `project` to the loaded (already cloned) `template`.

    `old` is (url, ref) of the version the project was made with, for a project whose answers
    file names its template by something copier cannot clone (the built-in template records
    `asgigen:builtin`, not a path on one machine); otherwise copier reads both from the answers
    file. `answers_file`: where the project keeps its answers, relative to it (the template's
    `_answers_file` may name another file, or the project may keep it in a folder). copier's
    exceptions propagate.
    Private hooks: `copier._main.Worker` (its `template` cached property preset with the loaded
    template, one clone not two), and the `template` cached property of its `subproject`
    (`copier._subproject.Subproject`) preset with `old`. What the template's tasks print goes
    to stderr (asgigen's stdout holds the update's result), unless the questions are asked.
    """
    from copier._template import Template  # lazy: 0.6 s to import

    # The templates this update has loaded: copier's update renders the old version and the
    # new one again with workers of its own, each of which would clone its template anew.
    loaded: list[Any] = [template.handle]
    with _update_worker(loaded)(
        src_path=template.url,
        dst_path=project,
        vcs_ref=template.ref,
        data=dict(data),
        defaults=not ask,
        skip_answered=skip_answered,
        overwrite=True,
        quiet=True,
        unsafe=True,  # the built-in template loads asgigen's Jinja filters; `new` trusted it
        conflict=conflict,
        answers_file=Path(answers_file) if answers_file else None,
    ) as worker:
        worker.__dict__["template"] = template.handle
        if old is not None:
            made_with = Template(url=old[0], ref=old[1])
            worker.subproject._cleanup_hooks.append(made_with._cleanup)
            worker.subproject.__dict__["template"] = made_with
        loaded.append(worker.subproject.template)  # None without an answers file
        with contextlib.nullcontext() if ask else to_stderr():  # its tasks' output: stderr
            worker.run_update()


def _update_worker(loaded: list[Any]) -> type[Any]:
    """copier's Worker for one update, minus repeated work: its helper workers reuse the
    `loaded` templates' clones, each template file and each expression is compiled once, and
    `core.fileMode` is read once per destination instead of once per rendered file.

    Private hooks: the `template` cached property of `copier._main.Worker` (a helper worker
    whose url and ref, or described commit, are a loaded template's takes that template, and
    cleans up only what it cloned itself), its `jinja_env` (given a bytecode cache, as Jinja
    allows, and a cached `from_string`) and its `_sync_git_index_executable_bit`, called as
    before where `core.fileMode` is false.
    """
    from copier._main import Worker  # lazy: 0.6 s to import

    file_mode_off: dict[Path, bool] = {}
    compiled = _memory_bytecode_cache()

    class UpdateWorker(Worker):
        @functools.cached_property
        def template(self) -> Any:
            ref = self.resolved_vcs_ref
            for made in loaded:  # `commit` is in __dict__ once copier has described it
                described = None if made is None else (made.ref, made.__dict__.get("commit"))
                if described and made.url == self.src_path and ref in described:
                    return made
            return super().template

        def _sync_git_index_executable_bit(self, dst_relpath: Path, src_mode: int) -> None:
            # Where core.fileMode is true (or unset) copier's sync is a no-op; it asks git for
            # the setting once per file (a process each), which cannot change mid-render.
            root = self.subproject.local_abspath
            if root not in file_mode_off:
                setting = git.run("config", "--type=bool", "--get", "core.fileMode", cwd=root)
                file_mode_off[root] = setting.stdout.strip() == "false"
            if file_mode_off[root]:
                super()._sync_git_index_executable_bit(dst_relpath, src_mode)

        @functools.cached_property
        def jinja_env(self) -> Any:
            # The new version is rendered twice (into the project, then into a scratch copy
            # to diff against) from one clone: its files are compiled once. copier compiles
            # every path, default and condition again on each use; each is compiled once.
            env = super().jinja_env
            env.bytecode_cache = compiled
            env.from_string = functools.lru_cache(maxsize=1024)(env.from_string)  # type: ignore[method-assign,assignment]
            return env

    return UpdateWorker


def _memory_bytecode_cache() -> Any:
    """A Jinja bytecode cache in memory: a template's code, by its name and file, for as long
    as the source is unchanged (Jinja compares a checksum of it)."""
    from jinja2 import BytecodeCache  # lazy: copier's dependency, imported with it

    class MemoryBytecodeCache(BytecodeCache):
        def __init__(self) -> None:
            self.codes: dict[str, bytes] = {}

        def load_bytecode(self, bucket: Any) -> None:
            if bucket.key in self.codes:
                bucket.bytecode_from_string(self.codes[bucket.key])

        def dump_bytecode(self, bucket: Any) -> None:
            self.codes[bucket.key] = bucket.bytecode_to_string()

    return MemoryBytecodeCache()


def task_failed(err: subprocess.CalledProcessError) -> TemplateError:
    """A template task that failed (copier's TaskError): its command, its exit code and what
    to do. Its output is already on stderr, above this."""
    command = err.cmd if isinstance(err.cmd, str) else shlex.join(map(str, err.cmd))
    if err.returncode == 127:  # the shell's "command not found"
        program = command.split()[0] if command.split() else command
        hint = f"the task needs `{program}`, which is not on PATH: install it, then run again"
    else:
        hint = "its output is above: give the task what it needs, then run again"
    return TemplateError(
        f"the template's task `{command}` failed with exit code {err.returncode}", hint=hint
    )


# --- the answer space


class QuestionRules:
    """copier's own `when` and default of each question, evaluated for given answers.

    `asgigen validate --pairwise/--exhaustive` walks the answer space with them, so a
    condition means exactly what it means when copier renders. Results are cached by the
    values of the variables each expression reads, so a large space costs few renders.
    Private hooks: `copier._main.Worker.jinja_env` (the template's Jinja environment: its
    loader, extensions and envops) and `copier._user_data.Question` / `AnswersMap`.
    """

    def __init__(self, template: LoadedTemplate) -> None:
        from copier._main import Worker  # lazy: 0.6 s to import

        worker = Worker(src_path=template.url, dst_path=Path("."), vcs_ref=template.ref)
        worker.__dict__["template"] = template.handle
        self._env = worker.jinja_env
        # copier compiles each expression anew on every evaluation; a space of answer sets
        # evaluates the same few again and again. This environment is ours alone.
        compile_once = functools.lru_cache(maxsize=1024)(self._env.from_string)
        self._env.from_string = compile_once  # type: ignore[method-assign,assignment]
        self._questions = template.questions
        self._reads: dict[tuple[str, str], frozenset[str] | None] = {}
        self._cache: dict[tuple[Any, ...], Any] = {}

    def applies(self, name: str, answers: Mapping[str, Any]) -> bool:
        """Whether copier asks `name` given the answers so far (its `when`)."""
        when = self._questions[name].get("when", True)
        if isinstance(when, bool):
            return when
        return bool(self._evaluate(name, "when", answers, lambda q: q.get_when()))

    def refusal(self, name: str, answers: Mapping[str, Any]) -> str:
        """What copier's `validator` of `name` says of the answers so far ("" when it accepts):
        an answer set it refuses is not one copier can render."""
        if not self._questions[name].get("validator"):
            return ""

        def compute(question: Any) -> str:
            return str(question.render_value(question.validator)).strip()

        try:
            return str(self._evaluate(name, "validator", answers, compute))
        except Exception:  # a validator that reads an answer not there yet (the name, say)
            return ""

    def default(self, name: str, answers: Mapping[str, Any]) -> Any:
        """The question's default as copier computes it; `None` when it has none or it fails."""
        if "default" not in self._questions[name]:
            return None

        def compute(question: Any) -> Any:
            from copier._types import MISSING  # lazy: 0.6 s to import

            value = question.get_default()
            return None if value is MISSING else value

        try:
            return self._evaluate(name, "default", answers, compute)
        except Exception:  # a default that needs an answer not given (the name, say)
            return None

    def _evaluate(self, name: str, key: str, answers: Mapping[str, Any], run: Any) -> Any:
        reads = self._read_by(name, key)
        context = dict(answers)
        cache_key = (
            name,
            key,
            None if reads is None else tuple(repr(context.get(v)) for v in sorted(reads)),
        )
        if reads is None or cache_key not in self._cache:
            from copier._user_data import AnswersMap, Question  # lazy: 0.6 s to import

            spec = self._questions[name]
            question = Question(
                var_name=name,
                answers=AnswersMap(),
                context=context,
                jinja_env=self._env,
                **spec,
            )
            self._cache[cache_key] = run(question)
        return self._cache[cache_key]

    def _read_by(self, name: str, key: str) -> frozenset[str] | None:
        """The variables an expression reads; None (no caching) when it cannot be parsed."""
        if (name, key) not in self._reads:
            from jinja2 import meta  # lazy: 20-70 ms to import

            source = self._questions[name].get(key)
            try:
                reads: frozenset[str] | None = (
                    frozenset(meta.find_undeclared_variables(self._env.parse(source)))
                    if isinstance(source, str)
                    else frozenset()
                )
            except Exception:
                reads = None
            self._reads[(name, key)] = reads
        return self._reads[(name, key)]
