"""Imports that third-party libraries make and this package never uses, kept off its processes.

Each one is a measured cost on a path where someone waits (`benchmarks/cli_startup.py`,
`benchmarks/mint_latency.py`), and each is undone transparently the moment anything really uses
what was skipped. tests/core/test_lean_imports.py checks both halves.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import threading
import types
from collections.abc import Iterable
from typing import Any

#: BLS12-381's group order r, which eth_keyfile reads at import (`py_ecc.bls12_381.curve_order`;
#: tests/core/test_lean_imports.py compares it with py_ecc's own value)
BLS12_381_CURVE_ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001

_SWAP = threading.Lock()  # one thread at a time takes a stand-in out of sys.modules


def skip_httpx_cli() -> None:
    """httpx imports its own command line (`httpx._main`: rich, pygments) whenever click and
    rich are installed. A `None` entry in `sys.modules` makes that one import fail and httpx
    falls back to a stub `httpx.main`; a process of ours never runs httpx's CLI."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def skip_pydantic_plugins() -> None:
    """pydantic looks up plugins (`importlib.metadata` entry points) on its first validation; a
    process of ours uses none, so PYDANTIC_DISABLE_PLUGINS turns the lookup off (a value of the
    user's own wins). pydantic still imports its loader module, and with it importlib.metadata,
    zipfile and csv (~10 ms of a request command), only to be told there are none: while the
    setting turns every plugin off, that module is a stand-in whose `get_plugins()` says so;
    anything else asked of it, or the setting changed later, imports the real one."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if _PLUGIN_LOADER not in sys.modules and _PluginLoaderFinder not in sys.meta_path:
        sys.meta_path.insert(0, _PluginLoaderFinder)


_PLUGIN_LOADER = "pydantic.plugin._loader"
#: the PYDANTIC_DISABLE_PLUGINS values that turn every plugin off (pydantic/plugin/_loader.py)
_NO_PLUGINS = ("__all__", "1", "true")


class _PluginLoaderFinder:
    """The import system's way to the stand-in for pydantic's plugin loader (`sys.meta_path`).

    Imported this way, not placed in `sys.modules` ahead of time, the stand-in is what the real
    module would be to the import system: imported after its parent packages, an attribute of
    `pydantic.plugin` (`import pydantic.plugin._loader; pydantic.plugin._loader.x`, pytest's
    `monkeypatch.setattr("pydantic.plugin._loader.x", ...)`), with a `__spec__`
    (`importlib.util.find_spec`, `importlib.reload`), not a package. The setting is read when
    pydantic first imports it; `_real_module` takes this finder out of the way for good.
    """

    @staticmethod
    def find_spec(name: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if name != _PLUGIN_LOADER or os.environ.get("PYDANTIC_DISABLE_PLUGINS") not in _NO_PLUGINS:
            return None
        loader: Any = _PluginLoaderFinder  # a Loader in all but name: importlib.abc costs imports
        return importlib.machinery.ModuleSpec(name, loader)

    @staticmethod
    def create_module(spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _StandIn(spec.name, None, get_plugins=_get_plugins)

    @staticmethod
    def exec_module(module: types.ModuleType) -> None:
        """Nothing to run: the stand-in holds what it has."""


def _get_plugins() -> Iterable[Any]:
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") in _NO_PLUGINS:
        return ()
    plugins: Iterable[Any] = _real_module(_PLUGIN_LOADER).get_plugins()
    return plugins


def defer_bls12_381() -> None:
    """Keep py_ecc's BLS12-381 code unloaded until something uses it.

    eth_account imports eth_keyfile, which imports `py_ecc.bls` and `py_ecc.bls12_381` for
    EIP-2335 (version 4, BLS) keystores; this package only reads and writes version 3
    (secp256k1) keystores. py_ecc builds its pairing tables at import: about 0.8 s of CPU in
    every process that signs, more than half of importing eth_account. Until then the two
    modules are stand-ins holding the two names eth_keyfile takes; any other use (a name, a
    submodule, eth_keyfile's `bls.SkToPk`) imports the real module in its place. A process
    that has already imported either module is left as it is.

    Called by this package's own entry points (CLI, MCP server, sandbox) and its test suite,
    never on import of the library: in a user's process that does BLS itself, a `from py_ecc.bls
    import G2ProofOfPossession` while the stand-in is there gets a proxy, not the class.
    """
    if "py_ecc.bls" in sys.modules or "py_ecc.bls12_381" in sys.modules:
        return
    py_ecc = importlib.util.find_spec("py_ecc")  # finds, does not import
    if py_ecc is None or not py_ecc.submodule_search_locations:
        return
    where = py_ecc.submodule_search_locations
    bls = _StandIn("py_ecc.bls", where,
                   G2ProofOfPossession=_DeferredName("py_ecc.bls", "G2ProofOfPossession"))
    curve = _StandIn("py_ecc.bls12_381", where, curve_order=BLS12_381_CURVE_ORDER)
    sys.modules.setdefault("py_ecc.bls", bls)
    sys.modules.setdefault("py_ecc.bls12_381", curve)


class _StandIn(types.ModuleType):
    """A module not imported yet: reading any name it does not hold imports the real one.

    `__path__` is the real package's, so `from X import name` does not import X and a
    submodule imports as usual; other dunder names (`__file__`, `__wrapped__`, ...) are absent,
    as on a built-in module: tools that walk `sys.modules` probing them must not pay for the
    import.
    """

    def __init__(self, name: str, parent_path: Iterable[str] | None, **names: object) -> None:
        super().__init__(name)
        if parent_path is not None:  # a package's stand-in (None: a plain module's)
            leaf = name.rpartition(".")[2]
            self.__path__ = [os.path.join(folder, leaf) for folder in parent_path]
        self.__dict__.update(names)

    def __setattr__(self, name: str, value: Any) -> None:
        # the import system sets dunder names on the object itself; any other name set (a test's
        # `monkeypatch.setattr(module, "x", ...)`, a mock) is the real module's, where its own
        # code reads it, and shows through this object too
        if not (name.startswith("__") and name != "__all__"):
            setattr(_real_module(self.__name__), name, value)
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if not (name.startswith("__") and name != "__all__"):
            delattr(_real_module(self.__name__), name)
        super().__delattr__(name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name != "__all__":
            raise AttributeError(name)
        real = _real_module(self.__name__)
        # `from X import *` asks for `__all__` (py_ecc's modules have none), then takes the
        # public names of this object's own namespace: they must be the real module's.
        self.__dict__.update((key, value) for key, value in vars(real).items()
                             if not key.startswith("__"))
        return getattr(real, name)


class _DeferredName:
    """A name of a module not imported yet; using it imports the module.

    Dunder names and `_where` are its own: copy and pickle probe `__deepcopy__` and
    `__setstate__` on an instance whose `_where` is not set yet, which would otherwise recurse
    through `__getattr__` past py_ecc's recursion limit (100000) into a segfault.
    """

    def __init__(self, module: str, name: str) -> None:
        self._where = (module, name)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") or attr == "_where":
            raise AttributeError(attr)
        module, name = self._where
        return getattr(getattr(_real_module(module), name), attr)

    def __repr__(self) -> str:
        return "<deferred {}.{}>".format(*self._where)


def _real_module(name: str) -> types.ModuleType:
    """Replace the stand-in for `name` with the real module (imported now) and return it.

    Threads that get here while the first one is still importing wait for its import to finish
    (importlib's module lock), rather than reading a half-initialized module.
    """
    current = sys.modules.get(name)
    if isinstance(current, _StandIn):
        with _SWAP:
            if name == _PLUGIN_LOADER and _PluginLoaderFinder in sys.meta_path:
                sys.meta_path.remove(_PluginLoaderFinder)  # first: no new stand-in after this
            if sys.modules.get(name) is current:
                del sys.modules[name]
        try:
            return importlib.import_module(name)
        except BaseException:
            sys.modules.setdefault(name, current)
            raise
    return importlib.import_module(name)
