"""lean_imports: what is skipped stays skipped on the paths that need speed, and anything that
really uses it gets the real thing. Each check runs in a fresh interpreter (the suite's own
workers defer BLS too, see tests/conftest.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

from venice_web3_keys.lean_imports import BLS12_381_CURVE_ORDER


def run(code: str) -> Any:
    """Run `code` in a fresh interpreter; it prints one JSON value as its last line."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


PAIRING = "py_ecc.optimized_bls12_381.optimized_pairing"


def test_signing_and_v3_keystores_never_build_the_bls_tables() -> None:
    result = run(f"""
        import json, sys
        from venice_web3_keys.lean_imports import defer_bls12_381
        defer_bls12_381()
        from eth_account import Account
        from eth_account.messages import encode_defunct
        account = Account.create()
        signed = Account.sign_message(encode_defunct(text="hi"), account.key)
        assert Account.recover_message(encode_defunct(text="hi"),
                                       signature=signed.signature) == account.address
        keystore = Account.encrypt(account.key, "pw", kdf="pbkdf2", iterations=2)
        assert Account.decrypt(keystore, "pw") == account.key
        import web3
        print(json.dumps("{PAIRING}" in sys.modules))
    """)
    assert result is False


def test_without_the_deferral_eth_account_builds_them() -> None:
    """The check above can fail: importing eth_account alone builds the tables."""
    assert run(f"""
        import json, sys
        import eth_account
        print(json.dumps("{PAIRING}" in sys.modules))
    """) is True


def test_real_bls_use_gets_the_real_modules_and_the_same_results() -> None:
    code = """
        import json, sys
        {defer}
        import eth_keyfile
        v4 = eth_keyfile.create_keyfile_json(b"\\x01" * 32, b"pw", version=4, kdf="pbkdf2",
                                             iterations=2)
        from py_ecc.bls import G2ProofOfPossession
        from py_ecc.bls12_381 import curve_order, pairing
        import py_ecc.bls.hash
        print(json.dumps({{
            "pubkey": v4["pubkey"],
            "pk_of_5": G2ProofOfPossession.SkToPk(5).hex(),
            "curve_order": curve_order,
            "pairing": callable(pairing),
            "real": [type(sys.modules[m]).__name__ for m in ("py_ecc.bls", "py_ecc.bls12_381")],
            "hash": hasattr(py_ecc.bls.hash, "sha256"),
        }}))
    """
    deferred = run(code.format(defer="from venice_web3_keys.lean_imports import defer_bls12_381;"
                                     " defer_bls12_381()"))
    plain = run(code.format(defer=""))
    assert deferred == plain
    assert deferred["real"] == ["module", "module"] and deferred["hash"] is True
    assert plain["curve_order"] == BLS12_381_CURVE_ORDER


def test_a_process_that_already_has_bls_is_left_alone() -> None:
    assert run("""
        import json, sys
        import py_ecc.bls
        real = sys.modules["py_ecc.bls"]
        from venice_web3_keys.lean_imports import defer_bls12_381
        defer_bls12_381()
        print(json.dumps(sys.modules["py_ecc.bls"] is real))
    """) is True


def test_probing_dunder_names_does_not_import_bls() -> None:
    """Tools walking sys.modules (inspect, coverage, pytest) read __file__ and the like."""
    assert run(f"""
        import inspect, json, sys
        from venice_web3_keys.lean_imports import defer_bls12_381
        defer_bls12_381()
        import eth_account
        for module in list(sys.modules.values()):
            getattr(module, "__file__", None), getattr(module, "__wrapped__", None)
        inspect.getmodule(json.dumps)
        print(json.dumps("{PAIRING}" in sys.modules))
    """) is False
