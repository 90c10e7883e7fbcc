"""The local sandbox: anvil as Base (chain.py), the Venice API emulator, and both together.

Exports are lazy so that importing the package (e.g. by the pytest plugin, or the emulator
sub-package) starts nothing and imports neither uvicorn nor eth_account.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

#: the web3 mint challenge variants the emulator can serve (JWT: what Venice serves today)
MINT_VARIANTS = ("jwt", "siwe")
#: USD credit of every new sandbox account. Venice starts accounts at $0, which would leave a
#: fresh wallet's keys with `accessPermitted: false`; a little credit keeps the happy path real.
DEFAULT_STARTING_USD = Decimal(10)

if TYPE_CHECKING:
    from venice_web3_keys.sandbox.chain import LocalChain
    from venice_web3_keys.sandbox.runner import Sandbox

__all__ = ["DEFAULT_STARTING_USD", "MINT_VARIANTS", "LocalChain", "Sandbox"]


def __getattr__(name: str) -> Any:
    if name == "LocalChain":
        from venice_web3_keys.sandbox.chain import LocalChain

        return LocalChain
    if name == "Sandbox":
        from venice_web3_keys.sandbox.runner import Sandbox

        return Sandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
