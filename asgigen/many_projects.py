"""`asgigen check PATH...` and `asgigen update --check PATH...`: a team's services at a glance.

Each project gets one line (its verdict) and the list a summary; `--json` gives the same as a
list of the single-project reports plus the summary. A project that cannot be read (not a
directory, no answers file...) gets its error on its line and counts as broken; the others
are still checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asgigen.check import resolve_servers, run_checks
from asgigen.console import Console
from asgigen.errors import EXIT_BAD_INPUT, AsgigenError
from asgigen.update import EXIT_BEHIND, check_update
from asgigen.verified_update import failed_names

if TYPE_CHECKING:
    from asgigen.check import CheckReport
    from asgigen.update import UpdateCheck


def _table(rows: list[tuple[str, str, str]]) -> list[str]:
    name_width = max(len(name) for name, _, _ in rows)
    verdict_width = max(len(verdict) for _, verdict, _ in rows)
    return [
        f"{name:<{name_width}}  {verdict:<{verdict_width}}  {detail}".rstrip()
        for name, verdict, detail in rows
    ]


@dataclass
class ManyChecks:
    reports: list[tuple[Path, CheckReport | AsgigenError]] = field(default_factory=list)

    @property
    def broken(self) -> list[str]:
        return [_name(path, report) for path, report in self.reports if not _passed(report)]

    def summary(self) -> str:
        total = len(self.reports)
        passed = total - len(self.broken)
        line = f"{passed} of {total} projects pass their checks"
        return f"{line}; broken: {', '.join(self.broken)}" if self.broken else line

    def text(self) -> str:
        rows = []
        for path, report in self.reports:
            name = _name(path, report)
            if isinstance(report, AsgigenError):
                rows.append((name, "error", report.message))
            elif report.ok:
                rows.append((name, "ok", f"all {len(report.steps)} checks passed"))
            else:
                rows.append((name, "FAILED", "; ".join(failed_names(report))))
        return "\n".join([*_table(rows), self.summary()])

    def to_dict(self) -> dict[str, Any]:
        projects = [
            {"project": str(path), "ok": False, "error": report.message}
            if isinstance(report, AsgigenError)
            else report.to_dict()
            for path, report in self.reports
        ]
        summary = {"projects": len(self.reports), "broken": self.broken}
        return {"projects": projects, "summary": summary}


@dataclass
class ManyStatuses:
    statuses: list[tuple[Path, UpdateCheck | AsgigenError]] = field(default_factory=list)

    @property
    def behind(self) -> list[str]:
        return [
            status.path.name
            for _, status in self.statuses
            if not isinstance(status, AsgigenError) and status.behind
        ]

    @property
    def errors(self) -> list[str]:
        return [str(path) for path, status in self.statuses if isinstance(status, AsgigenError)]

    def summary(self) -> str:
        total = len(self.statuses)
        line = f"{len(self.behind)} of {total} projects behind their template"
        line += f": {', '.join(self.behind)}" if self.behind else ""
        return line + (f"; {len(self.errors)} could not be read" if self.errors else "")

    def text(self) -> str:
        rows = []
        for path, status in self.statuses:
            if isinstance(status, AsgigenError):
                rows.append((str(path), "error", status.message))
            elif status.behind:
                rows.append((status.path.name, "behind", f"{status.current} → {status.latest}"))
            else:
                rows.append((status.path.name, "current", f"{status.current} is the newest"))
        return "\n".join([*_table(rows), self.summary()])

    def to_dict(self) -> dict[str, Any]:
        projects = [
            {"project": str(path), "error": status.message}
            if isinstance(status, AsgigenError)
            else status.to_dict()
            for path, status in self.statuses
        ]
        summary = {"projects": len(self.statuses), "behind": self.behind, "errors": self.errors}
        return {"projects": projects, "summary": summary}

    @property
    def exit_code(self) -> int:
        """2 when a project could not be read, else 3 when one is behind (as for one), else 0."""
        if self.errors:
            return EXIT_BAD_INPUT
        return EXIT_BEHIND if self.behind else 0


def _name(path: Path, report: CheckReport | AsgigenError) -> str:
    return str(path) if isinstance(report, AsgigenError) else report.project.name


def _passed(report: CheckReport | AsgigenError) -> bool:
    return not isinstance(report, AsgigenError) and report.ok


def check_many(
    paths: list[Path], *, servers: list[str], isolated: bool, console: Console
) -> ManyChecks:
    """Run each project's checks, one after the other; never raises for one project."""
    resolve_servers(servers)  # a bad --server is the user's mistake once, not per project
    many = ManyChecks()
    for path in paths:
        console.info(f"{path}:")
        try:
            many.reports.append(
                (path, run_checks(path, servers=servers, isolated=isolated, console=console))
            )
        except AsgigenError as err:
            console.info(f"  error      {err.message}")
            many.reports.append((path, err))
    return many


def statuses(paths: list[Path]) -> ManyStatuses:
    """Whether each project is on its template's newest version."""
    many = ManyStatuses()
    for path in paths:
        try:
            many.statuses.append((path, check_update(path)))
        except AsgigenError as err:
            many.statuses.append((path, err))
    return many
