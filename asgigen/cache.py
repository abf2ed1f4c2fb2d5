"""asgigen's cache directory: where it is, what of it is asgigen's, its size, cleaning it.

The cache root is ASGIGEN_CACHE_DIR or the user's cache directory, and a user may point
ASGIGEN_CACHE_DIR at a directory other tools use too (~/.cache). So asgigen only ever
removes what it made: the folders it creates there (ENTRIES) carry a marker file written
when they are created, and in them only the entries it names itself (an environment's key,
its lock). Sizes count each file once however many hard links it has (uv links packages
from its own cache), as `du` does.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from pathlib import Path

from platformdirs import user_cache_dir

from asgigen.errors import BadInputError

READY = ".asgigen-ready"
# Written in each folder asgigen creates in the cache root: only a marked folder is cleaned.
MARKER = ".asgigen-cache"
# The folders asgigen creates in the cache root: environments (each with its mypy caches).
ENTRIES = ("envs",)
# What asgigen names inside them: an environment's key (16 hex digits) and its lock file.
_OWN_NAME = re.compile(r"[0-9a-f]{16}(\.lock)?")


def cache_root() -> Path:
    """ASGIGEN_CACHE_DIR, else the user's cache directory (~/.cache/asgigen on Linux)."""
    configured = os.environ.get("ASGIGEN_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    return _default_root()


def _default_root() -> Path:
    return Path(user_cache_dir("asgigen", appauthor=False))


def entry(name: str) -> Path:
    """The folder `name` (of ENTRIES) of the cache, created with its marker when missing.

    Raises BadInputError with a hint when the cache directory cannot be created or written.
    """
    folder = cache_root() / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / MARKER
        if not marker.exists():
            marker.write_text("made by asgigen: `asgigen cache --clean` removes it\n")
    except OSError as err:
        raise BadInputError(
            f"cannot create the cache directory {folder}: {err.strerror or err}",
            hint="set ASGIGEN_CACHE_DIR to a writable directory",
        ) from None
    return folder


def _is_ours(folder: Path) -> bool:
    """A folder asgigen made: marked, or in asgigen's own default cache directory (caches
    made before the marker existed)."""
    return (folder / MARKER).is_file() or _is_default(folder.parent)


def _is_default(root: Path) -> bool:
    """`root` is asgigen's own cache directory (~/.cache/asgigen), however it was named."""
    return root.resolve() == _default_root().resolve()


def _folders() -> list[Path]:
    """The folders of ENTRIES that are there and asgigen's."""
    folders = [cache_root() / name for name in ENTRIES]
    return [path for path in folders if path.is_dir() and not path.is_symlink() and _is_ours(path)]


def owned() -> list[Path]:
    """What asgigen made in the cache: each of its folders' own entries, then the marker."""
    found: list[Path] = []
    for folder in _folders():
        found += sorted(
            path for path in folder.iterdir() if _OWN_NAME.fullmatch(path.name) is not None
        )
        if (folder / MARKER).is_file():
            found.append(folder / MARKER)
    return found


def disk_usage(paths: list[Path]) -> int:
    """Bytes on disk under `paths`, each inode counted once (hard links too), as `du`."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for top in paths:
        for path in [top, *(top.rglob("*") if top.is_dir() and not top.is_symlink() else [])]:
            try:
                info = path.lstat()
            except OSError:
                continue  # removed meanwhile
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            total += info.st_blocks * 512
    return total


def cache_summary() -> str:
    """The cache's location, its environments and the space they take on disk."""
    root = cache_root()
    envs = [path for path in owned() if (path / READY).is_file()]
    size = disk_usage(owned())
    return f"{root}\n{len(envs)} environment(s), {size / 1e6:.1f} MB"


def clean_cache() -> str:
    """Remove what asgigen made in the cache, and say what went; nothing else is touched."""
    removed: list[str] = []
    folders = _folders()
    for path in owned():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        removed.append(str(path))
    root = cache_root()
    for folder in folders:
        with contextlib.suppress(OSError):  # it holds what is not asgigen's: it stays
            folder.rmdir()
            removed.append(str(folder))
    if _is_default(root):
        with contextlib.suppress(OSError):  # asgigen's own directory, once empty
            root.rmdir()
            removed.append(str(root))
    if not removed:
        return f"nothing of asgigen's in {root}"
    return "\n".join(f"removed {path}" for path in removed)


def evict(root: Path, *, keep: int, grace: float) -> list[Path]:
    """Remove the least recently used environments beyond `keep`; skip ones being built and
    ones used in the last `grace` seconds (a check may be running in them)."""
    from asgigen.environments import locked  # lazy: cycle, environments imports this module

    used = {}
    for marker in root.glob(f"*/{READY}"):
        with contextlib.suppress(OSError):  # removed meanwhile
            used[marker.parent] = marker.stat().st_mtime
    ready = sorted(used, key=used.__getitem__, reverse=True)
    removed = []
    now = time.time()
    for venv in ready[keep:]:
        if now - used[venv] < grace:
            continue
        with locked(root / f"{venv.name}.lock", blocking=False) as got:
            if got:
                shutil.rmtree(venv, ignore_errors=True)
                removed.append(venv)
    return removed
