"""The documentation site builds with `mkdocs build --strict` (mkdocs.yml), as `make docs` builds it: a
broken link, a missing anchor, a page left out of the navigation or a Python API reference that no longer
resolves fails the build. The two controls show that the strict build does fail on such a fault."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config),
                           "--site-dir", str(site)], cwd=config.parent, capture_output=True, text=True, timeout=300)


def test_the_site_builds_in_strict_mode(tmp_path):
    done = build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 0, done.stdout + done.stderr
    for page in ("index.html", "getting-started/index.html", "api/index.html", "changelog/index.html"):
        assert (tmp_path / "site" / page).is_file(), page
    api = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    assert 'id="pulumi_fc_invocation.FcClient"' in api and 'id="pulumi_fc_invocation.AsyncTask"' in api
    changelog = (tmp_path / "site" / "changelog" / "index.html").read_text(encoding="utf-8")
    assert "State compatibility" in changelog   # the page is the repository's CHANGELOG.md


@pytest.fixture
def copy(tmp_path) -> Path:
    """A copy of the site's sources (the package linked, for the API pages)."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("mkdocs.yml", "CHANGELOG.md"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "docs", root / "docs")
    (root / "tools").mkdir()
    shutil.copy(ROOT / "tools" / "docs_hooks.py", root / "tools" / "docs_hooks.py")
    (root / "pulumi_fc_invocation").symlink_to(ROOT / "pulumi_fc_invocation")
    return root


@pytest.mark.parametrize("fault, named", [
    ("[the limits](no-such-page.md)", "no-such-page.md"),
    ("[the limits](limits.md#no-such-heading)", "no-such-heading"),
    ("::: pulumi_fc_invocation.NoSuchName", "NoSuchName"),
])
def test_a_fault_fails_the_strict_build(copy, tmp_path, fault, named):
    page = copy / "docs" / "troubleshooting.md"
    page.write_text(page.read_text(encoding="utf-8") + f"\n\n{fault}\n", encoding="utf-8")
    done = build(copy / "mkdocs.yml", tmp_path / "site")
    assert done.returncode != 0
    assert named in done.stdout + done.stderr
