"""MkDocs hook (mkdocs.yml `hooks:`): the site's changelog page is the repository's CHANGELOG.md, so the
file a reader finds at the top of the repository and the page of the site are one text."""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File


def on_files(files, config):
    text = (Path(config.config_file_path).parent / "CHANGELOG.md").read_text(encoding="utf-8")
    files.append(File.generated(config, "changelog.md", content=text))
    return files
