"""lean_imports: what is skipped stays skipped on the paths that need speed, and anything that
really uses it gets the real thing. Each check runs in a fresh interpreter (the suite's own
workers defer BLS too, see tests/conftest.py): one with the deferral, one without."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.harness import untraced
from venice_web3_keys.lean_imports import BLS12_381_CURVE_ORDER

PAIRING = "py_ecc.optimized_bls12_381.optimized_pairing"

#: what a real use of BLS computes, the same with and without the deferral
REAL_BLS_USE = """
    import eth_keyfile
    v4 = eth_keyfile.create_keyfile_json(b"\\x01" * 32, b"pw", version=4, kdf="pbkdf2",
                                         iterations=2)
    from py_ecc.bls import G2ProofOfPossession
    from py_ecc.bls12_381 import curve_order, pairing
    import py_ecc.bls.hash
    report["bls"] = {
        "pubkey": v4["pubkey"],
        "pk_of_5": G2ProofOfPossession.SkToPk(5).hex(),
        "curve_order": curve_order,
        "pairing": callable(pairing),
        "modules": [type(sys.modules[m]).__name__ for m in ("py_ecc.bls", "py_ecc.bls12_381")],
        "hash": hasattr(py_ecc.bls.hash, "sha256"),
    }
"""

DEFERRED = """
    import inspect, json, sys
    from venice_web3_keys.lean_imports import defer_bls12_381
    defer_bls12_381()
    report = {}
    from eth_account import Account
    from eth_account.messages import encode_defunct
    account = Account.create()
    signed = Account.sign_message(encode_defunct(text="hi"), account.key)
    assert Account.recover_message(encode_defunct(text="hi"),
                                   signature=signed.signature) == account.address
    keystore = Account.encrypt(account.key, "pw", kdf="pbkdf2", iterations=2)
    assert Account.decrypt(keystore, "pw") == account.key
    import web3
    # tools walking sys.modules (inspect, coverage, pytest) probe __file__ and the like
    for module in list(sys.modules.values()):
        getattr(module, "__file__", None), getattr(module, "__wrapped__", None)
    inspect.getmodule(json.dumps)
    report["tables_built_by_signing"] = "{pairing}" in sys.modules
    # the first real use, from four threads at once (eth_keyfile's deferred `bls`)
    import threading, time
    import eth_keyfile.keyfile
    barrier, keys, errors = threading.Barrier(4), [], []
    def use(delay):
        barrier.wait()
        time.sleep(delay)  # the others arrive while the first is importing
        try:
            keys.append(eth_keyfile.keyfile.bls.SkToPk(5).hex())
        except Exception as exc:
            errors.append(repr(exc))
    threads = [threading.Thread(target=use, args=(0.001 * i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report["racing_first_use"] = {"errors": errors, "keys": sorted(set(keys)), "n": len(keys)}
""" + REAL_BLS_USE + """
    print(json.dumps(report))
"""

PLAIN = """
    import json, sys
    report = {}
    import eth_account
    report["tables_built_by_signing"] = "{pairing}" in sys.modules
    real = sys.modules["py_ecc.bls"]
    from venice_web3_keys.lean_imports import defer_bls12_381
    defer_bls12_381()  # too late: the real module stays
    report["left_alone"] = sys.modules["py_ecc.bls"] is real
""" + REAL_BLS_USE + """
    print(json.dumps(report))
"""


def run(code: str, env: dict[str, str] | None = None) -> Any:
    """Run `code` in a fresh interpreter; it prints one JSON object as its last line."""
    source = textwrap.dedent(code.replace("{pairing}", PAIRING))
    out = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                         timeout=120, check=False, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_signing_never_builds_the_bls_tables_and_real_bls_use_is_unchanged() -> None:
    # untraced: of ours, the plain run reaches only the early return, measured in-process too
    deferred, plain = run(DEFERRED), run(PLAIN, env=untraced(os.environ))
    # signing, v3 keystores, importing web3 and probing sys.modules build nothing...
    assert deferred["tables_built_by_signing"] is False
    # ...where eth_account alone builds them (so the check above can fail)
    assert plain["tables_built_by_signing"] is True
    # a process that already has BLS is left as it is
    assert plain["left_alone"] is True
    # real BLS use gets the real modules and the same results, even when it starts in several
    # threads at once
    assert deferred["racing_first_use"] == {"errors": [], "keys": [plain["bls"]["pk_of_5"]],
                                            "n": 4}
    assert deferred["bls"] == plain["bls"]
    assert deferred["bls"]["modules"] == ["module", "module"] and deferred["bls"]["hash"]
    assert plain["bls"]["curve_order"] == BLS12_381_CURVE_ORDER


#: what tools do with the names a stand-in holds: copy or pickle them, `import *` from it
TOOLS = """
    import copy, json, pickle, sys
    {deferral}
    import eth_keyfile.keyfile
    report = {}
    clones = [copy.copy(eth_keyfile.keyfile.bls), copy.deepcopy(eth_keyfile.keyfile.bls),
              pickle.loads(pickle.dumps(eth_keyfile.keyfile.bls))]
    report["tables_built_by_copying"] = "{pairing}" in sys.modules
    for module in ("py_ecc.bls", "py_ecc.bls12_381"):  # each the stand-in's first real use
        names = {}
        exec(f"from {module} import *", names)
        report[module] = sorted(f"{name}: {type(value).__name__}"
                                for name, value in names.items() if name != "__builtins__")
    report["clones"] = [clone.SkToPk(5).hex() for clone in clones]
    print(json.dumps(report))
"""
DEFERRAL = "from venice_web3_keys.lean_imports import defer_bls12_381; defer_bls12_381()"


def test_copying_pickling_and_star_imports_see_what_they_would_without_the_deferral() -> None:
    """A stand-in's proxy copied or unpickled once recursed in `__getattr__` until the C stack
    overflowed (py_ecc raises the recursion limit to 100000: a segfault, not RecursionError),
    and `from py_ecc.bls import *` got the proxy alone, without G2Basic and the rest."""
    deferred = run(TOOLS.replace("{deferral}", DEFERRAL))
    plain = run(TOOLS.replace("{deferral}", ""), env=untraced(os.environ))
    assert deferred["tables_built_by_copying"] is False
    assert deferred["clones"] == plain["clones"]
    assert deferred["py_ecc.bls"] == plain["py_ecc.bls"]
    assert deferred["py_ecc.bls12_381"] == plain["py_ecc.bls12_381"]


#: a pydantic plugin installed the way plugins are (an entry point in the `pydantic` group): it
#: records that pydantic asked it for a validator
FAKE_PLUGIN = {
    "fake_pydantic_plugin.py": textwrap.dedent("""
        import os
        class Plugin:
            def new_schema_validator(self, *args, **kwargs):
                open(os.environ["PLUGIN_CALLED"], "w").close()
                return None, None, None
        plugin = Plugin()
    """),
    "fake_pydantic_plugin-1.0.dist-info/METADATA":
        "Metadata-Version: 2.1\nName: fake-pydantic-plugin\nVersion: 1.0\n",
    "fake_pydantic_plugin-1.0.dist-info/entry_points.txt":
        "[pydantic]\nfake = fake_pydantic_plugin:plugin\n",
}

PLUGINS = """
    import json, os, sys
    from venice_web3_keys.lean_imports import skip_pydantic_plugins
    skip_pydantic_plugins()
    if os.environ.get("TURN_PLUGINS_BACK_ON"):  # a user's code, after the skip
        os.environ["PYDANTIC_DISABLE_PLUGINS"] = "some_other_plugin"
    from pydantic import BaseModel
    class Item(BaseModel):
        n: int
    report = {"validated": Item.model_validate({"n": 3}).n,
              "metadata": "importlib.metadata" in sys.modules,
              "loader": type(sys.modules["pydantic.plugin._loader"]).__name__,
              "plugin_called": os.path.exists(os.environ["PLUGIN_CALLED"])}
    # anything else asked of the loader is the real module's
    report["group"] = sys.modules["pydantic.plugin._loader"].PYDANTIC_ENTRY_POINT_GROUP
    report["loader_after"] = type(sys.modules["pydantic.plugin._loader"]).__name__
    print(json.dumps(report))
"""


def test_pydantic_plugin_lookup_stays_unloaded_while_plugins_are_off(tmp_path: Path) -> None:
    """Off (the default a process of ours sets): no loader module, no importlib.metadata, no
    plugin called, as before the stand-in. A user's own setting, before or after the skip, gets
    the real loader and the plugins it names."""
    site = tmp_path / "site"
    for name, text in FAKE_PLUGIN.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text)
    base = {k: v for k, v in untraced(os.environ).items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), base.get("PYTHONPATH")]))

    def case(name: str, **env: str) -> Any:
        called = tmp_path / f"{name}.called"
        return run(PLUGINS, {**base, "PLUGIN_CALLED": str(called), **env})

    off = case("off")
    assert off["validated"] == 3 and not off["plugin_called"]
    assert off["loader"] == "_StandIn" and not off["metadata"]
    assert off["group"] == "pydantic" and off["loader_after"] == "module"
    for turned_on in (case("after", TURN_PLUGINS_BACK_ON="1"),
                      case("before", PYDANTIC_DISABLE_PLUGINS="some_other_plugin")):
        assert turned_on["validated"] == 3 and turned_on["plugin_called"], turned_on
        assert turned_on["loader"] == "module" and turned_on["metadata"]


#: what a user's code (or its tests) does with pydantic's plugin loader in a process that ran
#: ours first (`cli.app.main([...])` in-process): the import system's usual ways to reach it
LOADER_TOOLS = """
    import importlib, importlib.util, json, os, sys
    from unittest import mock
    {skip}
    from pydantic import BaseModel
    class Item(BaseModel):
        n: int
    Item(n=1)  # a command's validation: pydantic imported its loader
    report = {"metadata_before": "importlib.metadata" in sys.modules}
    import pydantic.plugin._loader
    report["attribute"] = pydantic.plugin._loader.PYDANTIC_ENTRY_POINT_GROUP
    report["spec"] = importlib.util.find_spec("pydantic.plugin._loader").name
    try:
        import pydantic.plugin._loader.sub
    except ImportError as exc:
        report["submodule"] = type(exc).__name__
    from _pytest.monkeypatch import MonkeyPatch
    patch = MonkeyPatch()
    patch.setattr("pydantic.plugin._loader.PYDANTIC_ENTRY_POINT_GROUP", "patched")
    report["monkeypatched"] = sys.modules["pydantic.plugin._loader"].PYDANTIC_ENTRY_POINT_GROUP
    patch.undo()
    # a test that turns plugins on and installs one the way pydantic's own tests do
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "none_of_these"
    calls = []
    class Plugin:
        def new_schema_validator(self, *args, **kwargs):
            calls.append(args[2].name)
            return None, None, None
    with mock.patch("pydantic.plugin._loader._plugins", {"p": Plugin()}):
        class Other(BaseModel):
            n: int
    report["plugin_calls"] = calls
    print(json.dumps(report))
"""
SKIP = "from venice_web3_keys.lean_imports import skip_pydantic_plugins; skip_pydantic_plugins()"


def test_the_plugin_loader_stand_in_is_reached_as_the_real_module_is(tmp_path: Path) -> None:
    """Once placed in `sys.modules` ahead of pydantic, the stand-in was no attribute of
    `pydantic.plugin` (AttributeError on `pydantic.plugin._loader.x`, in pytest's string
    `monkeypatch.setattr`), had no `__spec__` (`find_spec` raised ValueError), and a patched
    `_plugins` went to the stand-in, never reaching pydantic: the plugin was not called."""
    env = {k: v for k, v in untraced(os.environ).items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    skipped = run(LOADER_TOOLS.replace("{skip}", SKIP), env)
    plain = run(LOADER_TOOLS.replace("{skip}", ""), env)
    assert skipped.pop("metadata_before") is False  # the stand-in was there, and used
    assert plain.pop("metadata_before") is True
    assert skipped == plain
    assert plain["plugin_calls"] == ["Other"] and plain["monkeypatched"] == "patched"
