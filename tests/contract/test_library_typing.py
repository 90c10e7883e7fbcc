"""A user's script type-checked the way a dApp developer would: the venv's `mypy --strict`, run
from a folder outside this checkout, against the installed (editable) package.

It proves two things. The package is visible to a static checker from an editable install
(`./dev setup` installs it path-based, not through an import hook mypy cannot follow: a script
that only imports it would otherwise fail with "Cannot find implementation or library stub").
And the values a user passes are typed: a misspelt key type, period or privacy fails the check,
on the sync and the async facade and in a KeyOptions dict, while results are typed (datetime,
Decimal).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.contract.conftest import REPO

CORRECT = '''
from datetime import datetime
from decimal import Decimal

from venice_web3_keys import AsyncVeniceKeys, VeniceKeys
from venice_web3_keys.api import KeyOptions


def make(vk: VeniceKeys) -> datetime | None:
    new = vk.create_key(api_key_type="INFERENCE", description="backend", usd_limit=Decimal("5"),
                        diem_limit="2.5", limit_period="MONTH", model_privacy="PRIVATE_ONLY")
    key = vk.update_key(new.id, limit_period="LIFETIME", usd_limit=None)
    limits = key.consumption_limits
    cap: Decimal | None = limits.usd if limits is not None else None
    print(cap, new.expires_at)
    reveal_type(key.created_at)
    reveal_type(new.expires_at)
    return key.expires_at


async def make_async(vk: AsyncVeniceKeys) -> None:
    options: KeyOptions = {"limit_period": "EPOCH", "model_privacy": "ALL", "usd_limit": 1}
    await vk.mint_key(api_key_type="ADMIN", description="ops", **options)
'''

TYPOS = '''
from venice_web3_keys import AsyncVeniceKeys, VeniceKeys
from venice_web3_keys.api import KeyOptions


def make(vk: VeniceKeys) -> None:
    vk.create_key(api_key_type="INFRENCE", description="typo")  # line 7
    vk.mint_key(limit_period="WEEKLY")  # line 8
    vk.update_key("id", model_privacy="PRIVATE")  # line 9


async def make_async(vk: AsyncVeniceKeys) -> None:
    await vk.create_key(api_key_type="admin", description="lower case")  # line 13
    options: KeyOptions = {"limit_period": "DAILY"}  # line 14
    await vk.mint_key(**options)
'''
TYPO_LINES = {7: "INFRENCE", 8: "WEEKLY", 9: "PRIVATE", 13: "admin", 14: "DAILY"}


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One mypy run over both scripts (a cold run checks the package and its dependencies)."""
    mypy = Path(sys.executable).parent / "mypy"
    if not mypy.exists():
        pytest.fail(f"mypy is not installed next to {sys.executable}: run ./dev setup")
    folder = tmp_path_factory.mktemp("user_project")
    assert REPO not in folder.parents
    (folder / "correct.py").write_text(textwrap.dedent(CORRECT))
    (folder / "typos.py").write_text(textwrap.dedent(TYPOS))
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    result = subprocess.run(
        [str(mypy), "--strict", "--no-color-output", "--show-error-codes",
         "--cache-dir", str(REPO / ".mypy_cache" / "user-script"), "correct.py", "typos.py"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.stdout


def test_the_package_is_found_and_a_correct_script_passes(mypy_output: str) -> None:
    assert "import-not-found" not in mypy_output and "import-untyped" not in mypy_output, \
        mypy_output
    correct = [line for line in mypy_output.splitlines() if line.startswith("correct.py")]
    assert not [line for line in correct if ": error:" in line], mypy_output
    revealed = [line.split("Revealed type is ", 1)[1] for line in correct
                if "Revealed type is" in line]
    assert len(revealed) == 2, mypy_output
    assert all(r in ('"datetime.datetime | None"', '"Union[datetime.datetime, None]"')
               for r in revealed), mypy_output


def test_a_misspelt_enum_value_fails_type_checking(mypy_output: str) -> None:
    errors: dict[int, str] = {}
    for output_line in mypy_output.splitlines():
        found = re.match(r"typos\.py:(\d+):(?:\d+:)? error: (.*)", output_line)
        if found:
            number = int(found.group(1))
            errors[number] = errors.get(number, "") + found.group(2)
    assert set(errors) == set(TYPO_LINES), mypy_output
    for line, value in TYPO_LINES.items():
        assert f'"{value}"' in errors[line] or f"'{value}'" in errors[line], errors[line]


MISSPELT_MODELS = '''
import venice_web3_keys.models as models
from venice_web3_keys.models import ApiKey, ApiKeys  # line 3
from venice_web3_keys.models.keys import CreatedKey

created: type[CreatedKey] = models.CreatedKey
spec = models.KeySpecs  # line 7
print(ApiKey, ApiKeys, created, spec)
'''


def test_a_misspelt_model_name_fails_type_checking(tmp_path: Path) -> None:
    """`venice_web3_keys.models` builds its models on first use (a module `__getattr__`): the
    checker must still see its names, not a catch-all that makes any misspelt name `Any`.
    MYPYPATH is this checkout, so a worktree checks its own package, not the installed one."""
    mypy = Path(sys.executable).parent / "mypy"
    (tmp_path / "misspelt.py").write_text(textwrap.dedent(MISSPELT_MODELS))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"MYPYPATH": str(REPO)}
    result = subprocess.run(
        [str(mypy), "--strict", "--no-color-output", "--show-error-codes",
         "--cache-dir", str(REPO / ".mypy_cache" / "user-script"), "misspelt.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    errors = {int(found.group(1)): found.group(2) for found in
              re.finditer(r"misspelt\.py:(\d+):(?:\d+:)? error: (.*)", result.stdout)}
    assert set(errors) == {3, 7}, result.stdout + result.stderr
    assert '"ApiKeys"' in errors[3] and '"KeySpecs"' in errors[7], errors
