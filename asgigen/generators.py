"""Generators: small copier templates a template offers for `asgigen add`, rendered into a
living project. The schema is documented in docs/add.md.

A generator is declared in the template's copier.yml under `_asgigen.generators` and lives in
a directory of the template with its own copier.yml (its questions). Rendering it gives:
- new files, copied into the project (a file that exists already is an error: a duplicate);
- `asgigen-add.toml`, the plan for what is not a new file: `[[insert]]` text placed before an
  anchor line the template keeps in one of its files, `[contract]` probes (`http`,
  `websocket-echo`) added to the project's contract, and `[[run]]` commands run in the
  project's check environment once the files are written (an Alembic autogenerate, a format).
The addition is recorded in the contract (`additions`), so `asgigen update` can put back what
a template release dropped (`reapply`).
"""

from __future__ import annotations

import difflib
import re
import shlex
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asgigen.contract import dump_toml, load_contract
from asgigen.errors import BadInputError, CheckFailedError, TemplateError
from asgigen.pyproject_file import PyprojectFile, TomlFileError, parse_toml
from asgigen.steps import project_env

PLAN_FILE = "asgigen-add.toml"
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class Generator:
    """One add-command a template offers: `asgigen add NAME ARGUMENT...`."""

    name: str
    path: str  # the generator's directory, relative to the template's root
    arguments: tuple[str, ...] = ()  # questions answered by the command's arguments, in order
    help: str = ""


def parse_generators(raw: Any, where: str) -> dict[str, Generator]:
    """`_asgigen.generators`: name → {path, arguments, help}."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise TemplateError(f"{where} must map a generator's name to its settings")
    found = {}
    for name, spec in raw.items():
        if not _NAME.match(str(name)):
            raise TemplateError(f"{where}: generator name {name!r}: lowercase letters, digits, '-'")
        if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
            raise TemplateError(
                f"{where}.{name} needs path, the generator's directory in the template",
                hint="for example route: {path: _generators/route, arguments: [method, path]}",
            )
        unknown = sorted(set(spec) - {"path", "arguments", "help"})
        if unknown:
            raise TemplateError(
                f"{where}.{name} has an unknown key {unknown[0]!r}",
                hint="known keys: path, arguments, help (see docs/add.md)",
            )
        arguments = spec.get("arguments") or []
        if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
            raise TemplateError(f"{where}.{name}.arguments must be a list of question names")
        found[str(name)] = Generator(
            str(name), spec["path"], tuple(arguments), str(spec.get("help", ""))
        )
    return found


@dataclass(frozen=True)
class Insert:
    file: str
    anchor: str
    text: str
    key: str  # the line that shows the insertion is there already

    def present_in(self, content: str) -> bool:
        return any(line.strip() == self.key for line in content.splitlines())


@dataclass(frozen=True)
class Run:
    """A command run in the project, in its check environment, after the files are written:
    `python` is that environment's interpreter, `{scratch}` a directory removed afterwards."""

    command: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()

    def shown(self) -> str:
        return shlex.join(self.command)


@dataclass
class Plan:
    """What one rendered generator adds to a project."""

    files: dict[str, bytes] = field(default_factory=dict)  # project-relative path → content
    inserts: list[Insert] = field(default_factory=list)
    http: list[dict[str, Any]] = field(default_factory=list)
    websocket_echo: list[str] = field(default_factory=list)
    run: list[Run] = field(default_factory=list)


@dataclass
class Changes:
    """The project's files after the addition: path → (before or None, after)."""

    project: Path
    edits: dict[str, tuple[str | None, str]] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        if name in self.edits:
            return self.edits[name][1]
        file = self.project / name
        return file.read_text(encoding="utf-8") if file.is_file() else None

    def put(self, name: str, text: str) -> None:
        before = self.edits[name][0] if name in self.edits else self.text(name)
        if before == text:
            self.edits.pop(name, None)
        else:
            self.edits[name] = (before, text)

    def diff(self) -> str:
        out: list[str] = []
        for name in sorted(self.edits):
            before, after = self.edits[name]
            out += difflib.unified_diff(
                (before or "").splitlines(keepends=True),
                after.splitlines(keepends=True),
                "/dev/null" if before is None else f"a/{name}",
                f"b/{name}",
            )
        return "".join(out)

    def write(self) -> None:
        for name, (_, after) in sorted(self.edits.items()):
            target = self.project / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(after, encoding="utf-8")


def render(
    template_root: Path, generator: Generator, answers: Mapping[str, Any], data: Mapping[str, Any]
) -> Plan:
    """Render `generator` with the project's answers and its own; return its plan."""
    from copier import run_copy  # lazy: 0.6 s to import

    source = (template_root / generator.path).resolve()
    if not source.is_relative_to(template_root.resolve()) or not (
        (source / "copier.yml").is_file() or (source / "copier.yaml").is_file()
    ):
        raise TemplateError(
            f"generator {generator.name}: {generator.path} is not a copier template in the "
            "template (it has no copier.yml)"
        )
    with tempfile.TemporaryDirectory(prefix="asgigen-add-") as tmp:
        out = Path(tmp) / "out"
        try:
            run_copy(
                str(source),
                out,
                data={**answers, **data},
                defaults=True,
                quiet=True,
                overwrite=True,
                unsafe=False,
            )
        except ValueError as err:  # a validator of the generator's questions said no
            message = re.sub(r"^Validation error for question '[^']*': ", "", _last_line(str(err)))
            raise BadInputError(message, hint=_usage(generator)) from None
        except Exception as err:
            raise TemplateError(
                f"generator {generator.name} failed to render: {_last_line(str(err))}"
            ) from None
        plan = _read_plan(out / PLAN_FILE, generator.name)
        for file in sorted(out.rglob("*")):
            relative = file.relative_to(out).as_posix()
            if file.is_file() and relative != PLAN_FILE and relative != ".copier-answers.yml":
                plan.files[relative] = file.read_bytes()
    return plan


def _usage(generator: Generator) -> str:
    args = " ".join(a.upper() for a in generator.arguments)
    return f"usage: asgigen add {generator.name} {args}".rstrip()


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def _read_plan(path: Path, name: str) -> Plan:
    plan = Plan()
    if not path.is_file():
        return plan
    where = f"generator {name}: {PLAN_FILE}"
    try:  # named as the template names it: `path` is a scratch copy, gone when this fails
        raw = parse_toml(Path(PLAN_FILE), path.read_text(encoding="utf-8"))
    except TomlFileError as err:  # the template's file, not the user's: a TemplateError
        raise TemplateError(f"generator {name}: {err.message}", hint=err.hint) from None
    unknown = sorted(set(raw) - {"insert", "contract", "run"})
    if unknown:
        raise TemplateError(
            f"{where}: unknown key {unknown[0]!r}", hint="known: insert, contract, run"
        )
    for i, entry in enumerate(raw.get("run", [])):
        command, env = entry.get("command"), entry.get("env", {})
        if (
            not isinstance(command, list)
            or not command
            or not all(isinstance(part, str) for part in command)
            or not isinstance(env, dict)
            or not all(isinstance(value, str) for value in env.values())
        ):
            raise TemplateError(
                f"{where}: run[{i}] needs command, a list of strings (and env, strings)"
            )
        plan.run.append(Run(tuple(command), tuple((str(k), v) for k, v in env.items())))
    for i, entry in enumerate(raw.get("insert", [])):
        fields = [entry.get(k) for k in ("file", "anchor", "text")]
        if not all(isinstance(value, str) and value for value in fields):
            raise TemplateError(f"{where}: insert[{i}] needs file, anchor and text")
        text = entry["text"] if entry["text"].endswith("\n") else entry["text"] + "\n"
        first = next(line.strip() for line in text.splitlines() if line.strip())
        key = entry.get("key", first)
        plan.inserts.append(Insert(entry["file"], entry["anchor"], text, str(key)))
    contract = raw.get("contract", {})
    plan.http = list(contract.get("http", []))
    plan.websocket_echo = list(contract.get("websocket-echo", []))
    return plan


def apply(
    plan: Plan,
    changes: Changes,
    contract_file: str,
    *,
    reapply: bool = False,
    pyproject: PyprojectFile | None = None,
) -> list[str]:
    """Put the plan into `changes`. Adding: anything there already is a duplicate (an error).
    Re-applying after an update: only what is missing; returns the anchors that are gone.
    `pyproject`: the project's pyproject.toml as read before the change, when read already."""
    missing: list[str] = []
    for name, content in plan.files.items():
        if changes.text(name) is not None:
            if reapply:
                continue
            raise BadInputError(
                f"{name} exists already: this was added before",
                hint="choose another path, or remove the earlier addition first",
            )
        changes.put(name, content.decode("utf-8"))
    # Whether each insertion is there already, judged before any of them is made: two
    # insertions may share a key (a router's line is there when its endpoint is).
    present = [
        (text := changes.text(insert.file)) is not None and insert.present_in(text)
        for insert in plan.inserts
    ]
    for insert, there in zip(plan.inserts, present, strict=True):
        text = changes.text(insert.file)
        if there:
            if reapply:
                continue
            raise BadInputError(
                f"{insert.file} has `{insert.key}` already: this was added before",
                hint="choose another path, or remove the earlier addition first",
            )
        placed = None if text is None else _insert_before_anchor(text, insert)
        if placed is None:
            if reapply:
                missing.append(f"{insert.file}: no line `{insert.anchor}`")
                continue
            raise BadInputError(
                f"{insert.file} has no line `{insert.anchor}`, where this addition goes",
                hint="put the marker comment back where the template had it, or run "
                "`asgigen update` to take the template release that has it",
            )
        changes.put(insert.file, placed)
    contract = load_contract(changes.project, pyproject)
    declared = {(p.method, p.path) for p in contract.http}
    http = []
    for probe in plan.http:
        key = (str(probe.get("method", "GET")).upper(), str(probe.get("path")))
        if key not in declared:
            http.append(probe)
        elif not reapply:
            raise BadInputError(
                f"the contract probes {key[0]} {key[1]} already: this route exists",
                hint="choose another path",
            )
    websockets = []
    for path in plan.websocket_echo:
        if path not in contract.websocket_echo:
            websockets.append(path)
        elif not reapply:
            raise BadInputError(
                f"the contract probes the websocket {path} already: it exists",
                hint="choose another path",
            )
    if http or websockets:
        text = changes.text(contract_file) or ""
        changes.put(contract_file, add_probes(text, contract_file, http, websockets))
    return missing


def _insert_before_anchor(text: str, insert: Insert) -> str | None:
    """The insertion goes right above the anchor line, so additions keep the order made."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip().startswith(insert.anchor):
            return "".join([*lines[:i], insert.text, *lines[i:]])
    return None


def add_probes(
    text: str, contract_file: str, http: list[dict[str, Any]], websocket_echo: list[str]
) -> str:
    """The contract file with more probes: HTTP ones appended, websocket paths in its list."""
    prefix = "tool.asgigen." if contract_file == "pyproject.toml" else ""
    if websocket_echo:
        text = _extend_websocket_echo(text, prefix, websocket_echo)
    if http:
        block = dump_toml({f"{prefix}http": http})
        # dump_toml quotes the dotted key; the table header names the nested table.
        block = block.replace(f'[["{prefix}http"]]', f"[[{prefix}http]]")
        text = text.rstrip("\n") + "\n" + block
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise BadInputError(
            f"{contract_file} would not be valid TOML after adding: {err}"
        ) from None
    return text


def _extend_websocket_echo(text: str, prefix: str, paths: list[str]) -> str:
    line = re.compile(r"^(websocket-echo\s*=\s*\[)([^\]\n]*)(\][ \t]*)$", re.M)
    found = line.search(text)
    quoted = ", ".join(dump_toml({"p": p}).split(" = ", 1)[1].strip() for p in paths)
    if found:
        inner = found[2].strip().rstrip(",")
        joined = f"{inner}, {quoted}" if inner else quoted
        return text[: found.start()] + f"{found[1]}{joined}{found[3]}" + text[found.end() :]
    header = f"[{prefix.rstrip('.')}]" if prefix else None
    new_line = f"websocket-echo = [{quoted}]\n"
    if header is None:
        return new_line + text
    at = re.search(rf"^{re.escape(header)}[ \t]*\n", text, re.M)
    if at is None:
        raise BadInputError("pyproject.toml has no [tool.asgigen] table to add the probe to")
    return text[: at.end()] + new_line + text[at.end() :]


def record(text: str, contract_file: str, generator: str, data: Mapping[str, Any]) -> str:
    """The contract file with this addition recorded (`additions`), for `asgigen update`."""
    prefix = "tool.asgigen." if contract_file == "pyproject.toml" else ""
    entry = {"generator": generator, "data": dict(data)}
    block = dump_toml({f"{prefix}additions": [entry]})
    block = block.replace(f'[["{prefix}additions"]]', f"[[{prefix}additions]]")
    return text.rstrip("\n") + "\n" + block


RUN_TIMEOUT = 300.0


def run_steps(runs: list[Run], project: Path, python: str, console: Any = None) -> None:
    """Each `[[run]]` command in the project, `python` being the check environment's; the
    first that fails raises CheckFailedError naming it, with its output. `console` (a
    console.Console) gets a progress line for each."""
    with tempfile.TemporaryDirectory(prefix="asgigen-add-run-") as scratch:
        for run in runs:
            started = time.perf_counter()
            command = [part.replace("{scratch}", scratch) for part in run.command]
            if command[0] == "python":
                command[0] = python
            extra = {key: value.replace("{scratch}", scratch) for key, value in run.env}
            try:
                result = subprocess.run(
                    command,
                    cwd=project,
                    env=project_env(extra, python),
                    capture_output=True,
                    text=True,
                    timeout=RUN_TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise CheckFailedError(
                    f"`{run.shown()}` took over {RUN_TIMEOUT:.0f} s; nothing was added"
                ) from None
            except OSError as err:
                raise CheckFailedError(f"`{run.shown()}` could not run: {err}") from None
            if result.returncode != 0:
                lines = (result.stdout + result.stderr).strip().splitlines()
                raise CheckFailedError(
                    f"`{run.shown()}` failed (exit {result.returncode}); nothing was added: "
                    + (lines[-1] if lines else "no output"),
                    details="\n".join(lines[-40:]),
                    hint="fix what it names, then run the same asgigen add again",
                )
            if console is not None:
                console.step("run", run.shown(), time.perf_counter() - started)
