"""No module imports a higher layer: the layers of docs/ARCHITECTURE.md, checked with `ast`.

Every import counts: at module level, inside a function (the lazy imports that keep start-up
fast) and under `if TYPE_CHECKING:`, since each is a dependency all the same. A module may
import its own layer and the ones below it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "venice_web3_keys"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

#: bottom to top, as in the diagram of docs/ARCHITECTURE.md; a name is a module or a folder
LAYERS: list[tuple[str, set[str]]] = [
    ("settings and its helpers", {"_version", "errors", "secret", "addresses", "amounts",
                                  "timeparse", "validation", "models", "settings", "sinks",
                                  "serialize", "bounded_http", "file_lock", "_sync", "hints",
                                  "lean_imports"}),
    ("signer / chain / Venice client / budget", {"signer", "chain", "transactions",
                                                 "challenge", "client", "budget"}),
    ("flows", {"flows"}),
    ("facade", {"api", "__init__"}),  # the package's own exports are the facade's
    ("faces", {"cli", "mcp", "sandbox", "__main__"}),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    """The index in LAYERS of a dotted module name of the package."""
    first = module.split(".")[1] if "." in module else "__init__"
    for index, (_, names) in enumerate(LAYERS):
        if first in names:
            return index
    raise LookupError(f"{module} has no layer: add it to LAYERS (and docs/ARCHITECTURE.md)")


def _is_module(dotted: str) -> bool:
    path = ROOT.parent / dotted.replace(".", "/")
    return path.with_suffix(".py").is_file() or path.is_dir()


def imported_modules(source: str, module: str, *, is_package: bool) -> set[str]:
    """Every module of the package that `source` (the text of `module`) imports."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            # `from venice_web3_keys import api` / `from . import x` may name a submodule
            found |= {f"{target}.{alias.name}" if _is_module(f"{target}.{alias.name}")
                      else target for alias in node.names}
    return {name for name in found if name == PACKAGE or name.startswith(PACKAGE + ".")}


def upward_imports(source: str, module: str, *, is_package: bool = False) -> list[str]:
    mine = layer_of(module)
    return sorted(f"{module} ({LAYERS[mine][0]}) imports {target} "
                  f"({LAYERS[layer_of(target)][0]})"
                  for target in imported_modules(source, module, is_package=is_package)
                  if layer_of(target) > mine)


MODULES = sorted(ROOT.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[module_name(p) for p in MODULES])
def test_no_module_imports_a_higher_layer(path: Path) -> None:
    module = module_name(path)
    assert upward_imports(path.read_text(), module, is_package=path.name == "__init__.py") == []


def test_every_layer_named_here_is_in_the_architecture_diagram() -> None:
    diagram = (ROOT.parent / "docs" / "ARCHITECTURE.md").read_text().split("```")[1]
    positions = []
    for title, names in LAYERS:
        anchor = {"settings and its helpers": "settings.py",
                  "signer / chain / Venice client / budget":
                  "signer.py", "flows": "flows/", "facade": "api.py", "faces": "cli/"}[title]
        assert anchor in diagram, anchor
        positions.append(diagram.index(anchor))
        for name in names - {"__init__", "__main__", "_version"}:
            assert name in diagram or f"{name}.py" in diagram, (title, name)
    assert positions == sorted(positions), "LAYERS is not in the diagram's order"


@pytest.mark.parametrize(("module", "source", "upward"), [
    ("venice_web3_keys.models", "from venice_web3_keys.cli.app import main", True),
    ("venice_web3_keys.settings", "def f():\n    from .api import AsyncVeniceKeys", True),
    ("venice_web3_keys.client.retry", "if TYPE_CHECKING:\n    from ..flows import mint", True),
    ("venice_web3_keys.chain", "from venice_web3_keys import api", True),
    ("venice_web3_keys.flows.mint", "from venice_web3_keys.chain import ChainReader", False),
    ("venice_web3_keys.cli.app", "import venice_web3_keys.api", False),
])
def test_the_check_sees_every_kind_of_import(module: str, source: str, upward: bool) -> None:
    assert bool(upward_imports(source, module)) is upward


def test_a_module_without_a_layer_is_reported() -> None:
    with pytest.raises(LookupError, match="has no layer"):
        layer_of("venice_web3_keys.somewhere_new")
