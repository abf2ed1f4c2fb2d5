"""Release step: record the live template as the version at the top of its changelog.

    python scripts/snapshot_template.py

Before running it, add an entry for the new version at the top of
asgigen/template_history/CHANGELOG.md (`## 0.3.0` and a few lines on what changed).
The version is appended to asgigen/template_history/history.bundle, which ships in the wheel,
so that `asgigen update` can merge projects made with it into later versions, offline.
Running it again after the version is recorded changes nothing.

    python scripts/snapshot_template.py --template DIR --version X.Y.Z

records another tree (used once, to recover 0.1.0 from git history).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's asgigen

from asgigen import template_history as history
from asgigen.template import builtin_template


def snapshot(template: Path, version: str, bundle: Path = history.BUNDLE) -> str:
    """Append `template` to `bundle` as `version`; return what happened, for the user."""
    if version not in history.changelog():
        raise SystemExit(f"error: {history.CHANGELOG} has no '## {version}' entry; add one first")
    released = history.released_versions(bundle)
    with tempfile.TemporaryDirectory(prefix="asgigen-snapshot-") as tmp:
        repo = history.open_repo(Path(tmp) / "history", bundle)
        if version in released:
            same = history.tag_tree(repo, version) == history.tree_of(template, repo)
            if same:
                return f"template {version} is already recorded, unchanged; nothing to do"
            raise SystemExit(
                f"error: template {version} was released with other content; a changed "
                f"template is a new version: add its entry at the top of {history.CHANGELOG}"
            )
        if released and history.version_key(version) <= history.version_key(released[-1]):
            raise SystemExit(f"error: {version} is not newer than the last release {released[-1]}")
        history.commit_version(repo, template, version)
        history.write_bundle(repo, bundle)
    size = bundle.stat().st_size
    versions = ", ".join([*released, version])
    return f"recorded template {version} in {bundle} ({size} bytes; versions: {versions})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", type=Path, default=None, help="default: the live template")
    parser.add_argument("--version", default=None, help="default: the changelog's top entry")
    args = parser.parse_args()
    template = args.template or builtin_template()
    version = args.version or history.template_version()
    print(snapshot(template, version))


if __name__ == "__main__":
    sys.exit(main())
