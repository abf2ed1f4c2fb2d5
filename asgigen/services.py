"""Backing services a project's contract asks for, such as a real PostgreSQL.

A contract names a service and the variable its app reads the service's URL from
(`[tool.asgigen.services] postgres = { url-env = "APP_DATABASE_URL" }`). When the caller
already set that variable, `asgigen check` uses the caller's server. Otherwise it starts a
throwaway one here, from the PostgreSQL binaries installed on this machine, and always stops
and removes it. With no binaries the step fails and names the command that installs them:
a database the project needs is never silently left out.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from asgigen import processes
from asgigen.errors import CheckFailedError
from asgigen.ports import free_port

# What a contract can ask for. Each URL is in its plain form (`postgresql://user:password@
# host:port/database`, `sqlite:////absolute/path.db`): the project picks its own driver.
KINDS = ("postgres", "sqlite")
INSTALL_HINT = "install PostgreSQL's server binaries: apt-get install postgresql (Debian, Ubuntu)"
# Where Debian's `postgresql` package puts initdb and pg_ctl (not on PATH), newest first.
_DEBIAN_BINARIES = "/usr/lib/postgresql/*/bin"
_START_ATTEMPTS = 3
_TIMEOUT = 120.0
_USER = "asgigen"
_DATABASE = "app"


def postgres_binaries() -> Path | None:
    """The directory holding initdb, pg_ctl and createdb: on PATH, or where Debian puts them."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    versions = sorted(glob.glob(_DEBIAN_BINARIES), key=_version_key, reverse=True)
    candidates += [Path(directory) for directory in versions]
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "createdb")):
            return directory
    return None


def _version_key(directory: str) -> tuple[int, ...]:
    version = Path(directory).parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def redact(url: str) -> str:
    """`url` with its password replaced by ***: what may appear in output and logs."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    credentials, at, location = rest.partition("@")
    user, colon, _ = credentials.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}{at}{location}"


@contextlib.contextmanager
def provide(kind: str, url_env: str) -> Iterator[tuple[str, str]]:
    """The service's URL and where it came from: the caller's own `url_env` when set, else a
    throwaway one, removed on exit."""
    given = os.environ.get(url_env)
    if given:
        yield given, f"{url_env} as given: {redact(given)}"
    elif kind == "postgres":
        with throwaway_postgres() as url:
            yield url, f"throwaway PostgreSQL {redact(url)}"
    elif kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="asgigen-sqlite-") as directory:
            yield f"sqlite:///{directory}/app.db", "throwaway SQLite file"
    else:
        raise ValueError(kind)


def _unprivileged_user() -> pwd.struct_passwd | None:
    """Who runs the server when asgigen runs as root (initdb refuses root): the `postgres`
    account a distribution's package creates, else `nobody`. None when not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise CheckFailedError(
        "PostgreSQL refuses to run as root, and this machine has no postgres or nobody user",
        hint="run asgigen as a normal user, or create one: useradd --system postgres",
    )


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL server of its own in a temporary directory, on a free loopback port.

    Yields the URL of a fresh database on it (user, password, database), in the plain
    `postgresql://` form. The server is stopped and its directory removed whatever happens.
    """
    binaries = postgres_binaries()
    if binaries is None:
        raise CheckFailedError(
            "the project needs PostgreSQL, and initdb and pg_ctl are not installed",
            hint=INSTALL_HINT,
        )
    account = _unprivileged_user()
    root = Path(tempfile.mkdtemp(prefix="asgigen-postgres-", dir=_temporary_root(account)))
    try:
        if account is not None:  # the server's own user must own its directory
            os.chown(root, account.pw_uid, account.pw_gid)
        password = secrets.token_hex(16)
        data = root / "data"
        password_file = root / "password"
        password_file.write_text(password + "\n", encoding="utf-8")
        if account is not None:
            os.chown(password_file, account.pw_uid, account.pw_gid)
        _run(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                _USER,
                "--pwfile",
                str(password_file),
                "--auth",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--no-sync",  # a throwaway cluster: no fsync, much faster
            ],
            account,
            root,
        )
        port = _start(binaries, data, root, account)
        # pg_ctl detaches the server into a session of its own: it goes with asgigen too.
        postmaster = _postmaster_pid(data)
        if postmaster is not None:
            processes.register(postmaster)
        try:
            env = {"PGPASSWORD": password}
            where = ["-h", "127.0.0.1", "-p", str(port), "-U", _USER]
            _run([str(binaries / "createdb"), *where, _DATABASE], account, root, env)
            url = f"postgresql://{_USER}:{password}@127.0.0.1:{port}/{_DATABASE}"
            _RUNNING[url] = (binaries, data, root, account, port)
            try:
                yield url
            finally:
                _RUNNING.pop(url, None)
        finally:
            running = _postmaster_pid(data)  # another pid after start_again
            _run(
                [str(binaries / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate", "-w"],
                account,
                root,
                check=False,
            )
            for pid in (postmaster, running):
                if pid is not None:
                    processes.unregister(pid)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _postmaster_pid(data: Path) -> int | None:
    """The running server's pid: the first line of postmaster.pid in its data directory."""
    try:
        return int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# The throwaway servers running now, by URL: what `stop_again` and `start_again` act on.
_RUNNING: dict[str, tuple[Path, Path, Path, pwd.struct_passwd | None, int]] = {}


def is_throwaway(url: str) -> bool:
    """`url` names a throwaway PostgreSQL started here (which asgigen may stop and restart)."""
    return url in _RUNNING


def stop_again(url: str) -> None:
    """Stop the throwaway server at `url`, keeping its data, to simulate a database outage."""
    binaries, data, root, account, _ = _RUNNING[url]
    _run([str(binaries / "pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w"], account, root)


def start_again(url: str) -> None:
    """Start the throwaway server at `url` again, on its own port, after `stop_again`."""
    binaries, data, root, account, port = _RUNNING[url]
    _start(binaries, data, root, account, port=port)
    restarted = _postmaster_pid(data)
    if restarted is not None:  # detached like the first one: it goes with asgigen too
        processes.register(restarted)


def _temporary_root(account: pwd.struct_passwd | None) -> str | None:
    """Where the server's directory goes: the usual temporary directory, unless the server's
    own user could not reach it (a TMPDIR inside a private directory): then /tmp."""
    base = Path(tempfile.gettempdir()).resolve()
    if account is None or all(
        os.stat(directory).st_mode & stat.S_IXOTH for directory in (base, *base.parents)
    ):
        return None
    return "/tmp"


def _start(
    binaries: Path,
    data: Path,
    root: Path,
    account: pwd.struct_passwd | None,
    port: int | None = None,
) -> int:
    """pg_ctl start on a free port (another one if it was taken meanwhile), or on `port` only;
    returns the port."""
    log = root / "server.log"
    wanted, attempts = port, _START_ATTEMPTS if port is None else 1
    for attempt in range(1, attempts + 1):
        port = wanted or free_port()
        # Sockets in the temporary directory: /var/run/postgresql may not exist or be ours.
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
        result = _run(
            [
                str(binaries / "pg_ctl"),
                "start",
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
            ],
            account,
            root,
            check=False,
        )
        if result.returncode == 0:
            return port
        text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
        if "already in use" not in text or attempt == attempts:
            raise CheckFailedError(
                "the throwaway PostgreSQL server did not start",
                details="\n".join((result.stdout + text).strip().splitlines()[-30:]),
            )
    raise AssertionError("unreachable")


def _run(
    command: list[str],
    account: pwd.struct_passwd | None,
    cwd: Path,
    env: dict[str, str] | None = None,
    *,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL tool, as `account` when given (dropping root's privileges)."""
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", **(env or {})}
    if account is not None:
        environment |= {"HOME": str(cwd), "USER": account.pw_name, "LOGNAME": account.pw_name}
    try:
        result = processes.run(
            command,
            cwd=cwd,
            env=environment,
            timeout=_TIMEOUT,
            stdin=subprocess.DEVNULL,
            # Popen switches user itself (setgid, setgroups, setuid), no su or runuser needed.
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )
    except subprocess.TimeoutExpired:
        raise CheckFailedError(f"{Path(command[0]).name} took over {_TIMEOUT:.0f} s") from None
    if check and result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise CheckFailedError(
            f"{Path(command[0]).name} failed while starting a throwaway PostgreSQL: "
            + (output.splitlines()[-1] if output else f"exit code {result.returncode}"),
            details=output,
        )
    return result
