"""Every released version of the built-in template, shipped with asgigen for `asgigen update`.

copier merges by rendering the version a project was made with, so every version ever released
must stay available, offline. They live in one git bundle, `history.bundle`: one commit per
version, tagged with it, whose tree is `templates/` as released. git stores a file once however
many versions share it, so a release costs only what it changed.

`CHANGELOG.md` beside it names the versions, newest first, each with a few lines that
`asgigen update` prints. Its top entry is the version of the live template (`templates/`), the
one `asgigen new` records: the template is versioned on its own, not with the package, so a
release that leaves the template alone adds no version. A release that changes the template adds
an entry at the top, then runs `python scripts/snapshot_template.py`.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from asgigen.git import run as run_git

HERE = Path(__file__).resolve().parent
BUNDLE = HERE / "history.bundle"
CHANGELOG = HERE / "CHANGELOG.md"
SNAPSHOT_COMMAND = "python scripts/snapshot_template.py"

_HEADING = re.compile(r"^## (\S+)\s*$", re.M)
_SKIPPED_PARTS = {"__pycache__", ".git", ".DS_Store"}
# Fixed identity and dates: the same template always gives the same commit.
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "asgigen",
    "GIT_AUTHOR_EMAIL": "asgigen@localhost",
    "GIT_COMMITTER_NAME": "asgigen",
    "GIT_COMMITTER_EMAIL": "asgigen@localhost",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00+0000",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00+0000",
}


class HistoryError(Exception):
    """A git step on the history failed; its stderr is the message."""


def git(*args: str, cwd: Path, stdin: str | None = None, **env: str) -> str:
    """Run git quietly with asgigen's identity; return stdout, raise HistoryError on failure."""
    no_hooks = ["-c", "core.hooksPath=" + os.devnull, "-c", "commit.gpgSign=false"]
    result = run_git(*no_hooks, *args, cwd=cwd, stdin=stdin, env={**_GIT_ENV, **env})
    if result.returncode != 0:
        raise HistoryError(f"git {args[0]}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def version_key(version: str) -> tuple[int, ...]:
    """Sort key of a release number such as 0.10.2 (numeric, not text, order)."""
    return tuple(int(part) for part in re.findall(r"\d+", version))


def changelog(path: Path = CHANGELOG) -> dict[str, str]:
    """Version → its entry's text, newest first, as written in CHANGELOG.md."""
    text = path.read_text(encoding="utf-8")
    headings = list(_HEADING.finditer(text))
    return {
        match.group(1): text[match.end() : nxt.start() if nxt else len(text)].strip()
        for match, nxt in zip(headings, [*headings[1:], None], strict=True)
    }


def template_version(path: Path = CHANGELOG) -> str:
    """The live template's version: the top entry of the changelog."""
    return next(iter(changelog(path)))


def changes_between(old: str, new: str, path: Path = CHANGELOG) -> dict[str, str]:
    """The changelog entries after `old` up to and including `new`, newest first."""
    return {
        version: text
        for version, text in changelog(path).items()
        if version_key(old) < version_key(version) <= version_key(new)
    }


def released_versions(bundle: Path = BUNDLE) -> list[str]:
    """The versions recorded in the bundle, oldest first."""
    if not bundle.is_file():
        return []
    heads = git("bundle", "list-heads", str(bundle), cwd=bundle.parent)
    refs = [line.split()[-1] for line in heads.splitlines()]
    tags = [ref.removeprefix("refs/tags/") for ref in refs if ref.startswith("refs/tags/")]
    return sorted(tags, key=version_key)


def _files(template: Path) -> list[str]:
    """The template's files as git paths, without caches and VCS metadata."""
    return sorted(
        path.relative_to(template).as_posix()
        for path in template.rglob("*")
        if (path.is_file() or path.is_symlink())
        and not _SKIPPED_PARTS.intersection(path.relative_to(template).parts)
        and path.suffix not in {".pyc", ".pyo"}
    )


def tree_of(template: Path, repo: Path) -> str:
    """Write `template`'s files into `repo`'s object store; return their git tree id.

    Every file is taken, whatever any .gitignore says, except caches: the tree is the template.
    """
    files = _files(template)
    if not files:
        raise HistoryError(f"{template} holds no files")
    git_dir = str(repo / ".git")
    blobs = git(
        "--git-dir", git_dir, "hash-object", "-w", "--stdin-paths", cwd=template,
        stdin="\n".join(files) + "\n",
    ).split()  # fmt: skip
    entries = "".join(
        f"{'100755' if os.access(template / name, os.X_OK) else '100644'} {blob}\t{name}\0"
        for name, blob in zip(files, blobs, strict=True)
    )
    with tempfile.TemporaryDirectory(prefix="asgigen-index-") as tmp:
        index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git("--git-dir", git_dir, "update-index", "-z", "--add", "--index-info",
            cwd=repo, stdin=entries, **index)  # fmt: skip
        return git("--git-dir", git_dir, "write-tree", cwd=repo, **index).strip()


def tag_tree(repo: Path, version: str) -> str | None:
    """The tree id tagged `version` in `repo`, or None."""
    try:
        tree = git("rev-parse", "--verify", "--quiet", f"refs/tags/{version}^{{tree}}", cwd=repo)
    except HistoryError:
        return None
    return tree.strip()


def commit_version(repo: Path, template: Path, version: str) -> bool:
    """Record `template` as `version` on top of the newest tag; False if already so recorded.

    A tag of the same version with another tree is moved: the given tree wins.
    """
    tree = tree_of(template, repo)
    if tag_tree(repo, version) == tree:
        return False
    tags = sorted(git("tag", "--list", cwd=repo).split(), key=version_key)
    parents = [arg for tag in tags[-1:] for arg in ("-p", f"refs/tags/{tag}^{{commit}}")]
    commit = git("commit-tree", tree, *parents, "-m", f"template {version}", cwd=repo).strip()
    git("tag", "--force", version, commit, cwd=repo)
    git("update-ref", "refs/heads/main", commit, cwd=repo)
    git("symbolic-ref", "HEAD", "refs/heads/main", cwd=repo)
    return True


def open_repo(into: Path, bundle: Path | None = BUNDLE) -> Path:
    """A git repository at `into` holding the bundle's versions (an empty one without it)."""
    if bundle is not None and bundle.is_file():
        git("clone", "--quiet", "--no-checkout", str(bundle), str(into), cwd=bundle.parent)
    else:
        into.mkdir(parents=True, exist_ok=True)
        git("init", "--quiet", cwd=into)
    return into


def build_repo(into: Path, live: Path, live_version: str, bundle: Path = BUNDLE) -> Path:
    """The shipped versions plus the live template as `live_version`: what update merges with."""
    from asgigen.template_history import released_filters  # lazy: released_filters imports jinja2

    released_filters.register()  # rendering a released version may load the old extension
    open_repo(into, bundle)
    commit_version(into, live, live_version)
    return into


def write_bundle(repo: Path, bundle: Path) -> None:
    """Write every tag of `repo` (and its main branch) to `bundle`, replacing it atomically."""
    partial = bundle.with_name(bundle.name + ".partial")
    git("bundle", "create", "--quiet", str(partial), "HEAD", "main", "--tags", cwd=repo)
    partial.replace(bundle)
