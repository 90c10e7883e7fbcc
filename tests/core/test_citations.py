"""Comments and docstrings cite only files in this repository: a reader of the package has no
`../shared/reference/` folder, no "interface.md" and no "notes §3"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r"interface\.md|venice-api-notes|\bnotes §|\(§\d")


@pytest.mark.parametrize("folder", ["venice_web3_keys", "tests", "benchmarks", "examples"])
def test_sources_cite_only_files_in_this_repository(folder: str) -> None:
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for path in (ROOT / folder).rglob("*.py") if path != Path(__file__)
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if OUTSIDE.search(line)]
    assert offenders == []


def test_the_pattern_catches_an_outside_citation() -> None:
    assert OUTSIDE.search("# see interface.md") and OUTSIDE.search("(notes §3b)")
    assert not OUTSIDE.search("# see docs/ARCHITECTURE.md")
