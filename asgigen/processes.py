"""The processes asgigen starts, so that none of them outlives it, however it is stopped.

Every long-lived child (a project's tests, a server, PostgreSQL) starts in a session of its
own and is registered here while it runs. On SIGINT or SIGTERM, and at exit, each registered
child goes with its whole process group and every process descended from it: what a
project's tests started (their live server) included, even in a session of its own. Then
asgigen exits with the signal's conventional code (130, 143) and one line on stderr.

Two races make that hold however the signal lands:
- Linux may hand the signal to any thread, not only the main one that Python runs handlers in
  (a thread that has just started a process takes a pending signal as it restores its signal
  mask). The main thread, waiting on a child in a system call, is then never woken. So the
  signal also wakes a watcher thread (through Python's wakeup file descriptor), which stops
  the children at once: the main thread's wait ends, and Python runs the handler there.
- A child is started and registered as one step (`start`): a signal arriving in between
  stops it when it is registered, then is raised.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from asgigen.errors import Interrupted

# pid of each registered child → True while it runs (a dict: its updates are atomic, and a
# signal handler may read it while the main thread is registering).
_children: dict[int, bool] = {}
# The signal that stopped asgigen, once one did: nothing new starts after it.
_stopped_by: list[int] = []


def stopped_by() -> int | None:
    """The signal asgigen was stopped by (SIGINT, SIGTERM), or None."""
    return _stopped_by[0] if _stopped_by else None


def register(pid: int) -> None:
    """Count `pid` (the leader of a session of its own) among the children to stop."""
    _children[pid] = True
    if _stopped_by:  # started while asgigen was being stopped: it goes at once
        kill_tree(pid)
        unregister(pid)  # its pid may be reused once it is reaped
        raise _interrupted(_stopped_by[0])


def unregister(pid: int) -> None:
    _children.pop(pid, None)


def start(command: Sequence[str], **options: Any) -> subprocess.Popen[Any]:
    """subprocess.Popen(command, **options) in a session of its own, and registered. Start and
    registration are one step for a signal (`deferred`): one arriving meanwhile stops the
    child as it is registered, then is raised, so no child is ever left unregistered."""
    with deferred():
        process = subprocess.Popen(command, start_new_session=True, **options)
        try:
            register(process.pid)
        except BaseException:
            with process:  # register killed it: close its pipes and reap it
                raise
    return process


def run(
    command: Sequence[str],
    *,
    timeout: float | None = None,
    input: str | None = None,
    **options: Any,
) -> subprocess.CompletedProcess[str]:
    """subprocess.run(command, capture_output=True, text=True), in a session of its own and
    registered; on a timeout or an interrupt its whole tree goes, not only the child (a
    grandchild holding the output pipes open would keep the wait from ever ending).

    A signal is raised once the child is reaped and unregistered (`deferred`): the handler
    kills the child, which ends the wait, so nothing is left half done between two lines."""
    if input is not None:
        options["stdin"] = subprocess.PIPE
    with deferred():
        process = start(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options
        )
        with process:
            try:
                stdout, stderr = process.communicate(input, timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_tree(process.pid)
                stdout, stderr = process.communicate()
                raise subprocess.TimeoutExpired(
                    process.args, timeout or 0.0, output=stdout, stderr=stderr
                ) from None
            except BaseException:
                kill_tree(process.pid)
                process.wait()
                raise
            finally:
                unregister(process.pid)  # reaped: its pid may be reused
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _table() -> dict[int, tuple[int, int]]:
    """Every process on the machine: pid → (parent pid, process group id), from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return table


def _tree(leaders: set[int]) -> set[int]:
    """The leaders, the processes in their groups, and all their descendants."""
    if not Path("/proc/self/stat").exists():  # not Linux: the groups are what we know
        return set(leaders)
    table = _table()
    found = set(leaders) | {pid for pid, (_, group) in table.items() if group in leaders}
    while True:
        more = {pid for pid, (parent, _) in table.items() if parent in found} - found
        if not more:
            return found
        found |= more


def _signal_all(pids: set[int], signum: int) -> None:
    own_group = os.getpgrp()
    groups = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(pid))
        with contextlib.suppress(OSError):
            os.kill(pid, signum)
    for group in groups - {own_group}:
        with contextlib.suppress(OSError):
            os.killpg(group, signum)


def kill_tree(*leaders: int) -> None:
    """SIGKILL the leaders, their process groups and every descendant. The tree is frozen
    first (SIGSTOP) so that nothing forks between finding it and killing it, then found
    again, since a process forked before the freeze is not lost when its parent dies."""
    wanted = {pid for pid in leaders if pid != os.getpid()}
    if not wanted:
        return
    _signal_all(_tree(wanted) - {os.getpid()}, signal.SIGSTOP)
    _signal_all(_tree(wanted) - {os.getpid()}, signal.SIGKILL)


def stop_all() -> None:
    """Kill every registered child's tree (at exit, or on a signal)."""
    kill_tree(*tuple(_children))


def message(signum: int) -> str:
    return "interrupted" if signum == signal.SIGINT else "terminated"


def _interrupted(signum: int) -> Interrupted:
    error = Interrupted(message(signum))
    error.exit_code = 128 + signum  # 130 for SIGINT, 143 for SIGTERM, as shells report them
    return error


# Set while a step that must not be cut in two runs (moving a project into place): a
# signal then stops the children at once and is raised when the step is over.
_deferring: list[bool] = []
_pending: list[int] = []


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Run the body whole: SIGINT or SIGTERM arriving meanwhile is raised after it.

    Only the main thread is ever interrupted (Python runs signal handlers there): in another
    thread (validate's workers) the body runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _deferring.append(True)
    try:
        yield
    finally:
        _deferring.pop()
        if not _deferring and _pending:
            signum = _pending[0]
            _pending.clear()
            raise _interrupted(signum)


def _on_signal(signum: int, _frame: object) -> None:
    _stop(signum)
    if _deferring:
        _pending.append(signum)
        return
    # Our own exception, not KeyboardInterrupt, which click would swallow as "Aborted!".
    raise _interrupted(signum)


_HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_watching: list[int] = []  # the wakeup pipe's read end, once the watcher runs


def _stop(signum: int) -> None:
    """What a signal does first, in whichever thread sees it: nothing new starts (`register`
    stops it), and the children go."""
    if not _stopped_by:
        _stopped_by.append(signum)
    stop_all()


def _watch(wakeup: int) -> None:
    """Python writes the number of each signal it receives, in whatever thread, to the wakeup
    pipe: stop the children at once, so that the main thread's wait on one ends."""
    while True:
        try:
            received = os.read(wakeup, 64)
        except OSError:
            return
        for signum in received:
            if signum in _HANDLED:
                _stop(signum)


def install() -> None:
    """Stop the children on SIGINT, SIGTERM and SIGHUP (its terminal closed), then raise
    Interrupted in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in _HANDLED:
        signal.signal(signum, _on_signal)
    if not _watching:
        read, write = os.pipe()
        os.set_blocking(write, False)  # as set_wakeup_fd requires
        signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        _watching.append(read)
        threading.Thread(target=_watch, args=(read,), name="asgigen-signals", daemon=True).start()
