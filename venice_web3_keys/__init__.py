"""venice-web3-keys: turn a wallet holding staked VVV on Base into Venice.ai API keys.

Exports are lazy (PEP 562 module `__getattr__`): `import venice_web3_keys` costs almost nothing
and never imports web3, eth_account or httpx; each name loads its module on first access. The
error classes are every exception class errors.py defines (tests/core/test_exports.py pins the
whole public list).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from venice_web3_keys._version import __version__


def _error_classes() -> list[str]:
    """Every exception class errors.py defines (cheap: it imports nothing outside the package)."""
    from venice_web3_keys import errors

    return [name for name, value in vars(errors).items()
            if isinstance(value, type) and issubclass(value, BaseException)
            and value.__module__ == errors.__name__]


_EXPORTS: dict[str, str] = {
    "VeniceKeys": "venice_web3_keys.api",
    "AsyncVeniceKeys": "venice_web3_keys.api",
    "NewKey": "venice_web3_keys.api",
    "RotationResult": "venice_web3_keys.api",
    "RotationProgress": "venice_web3_keys.api",
    "Revocation": "venice_web3_keys.api",
    "StakeResult": "venice_web3_keys.api",
    "StakeProgress": "venice_web3_keys.flows._result",
    "ProvisionResult": "venice_web3_keys.flows.provision",
    "Settings": "venice_web3_keys.settings",
    "load_settings": "venice_web3_keys.settings",
    "SecretValue": "venice_web3_keys.secret",
    "ApiKeySecret": "venice_web3_keys.secret",
    "SecretSink": "venice_web3_keys.sinks",
    "SinkReceipt": "venice_web3_keys.sinks",
    "FileSink": "venice_web3_keys.sinks",
    "EnvFileSink": "venice_web3_keys.sinks",
    "KeyringSink": "venice_web3_keys.sinks",
    "PrintSink": "venice_web3_keys.sinks",
    "SigningNotice": "venice_web3_keys.challenge",
    **dict.fromkeys(_error_classes(), "venice_web3_keys.errors"),
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'venice_web3_keys' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # static view of the lazy names (redundant aliases mark re-exports)
    from venice_web3_keys.api import AsyncVeniceKeys as AsyncVeniceKeys
    from venice_web3_keys.api import NewKey as NewKey
    from venice_web3_keys.api import Revocation as Revocation
    from venice_web3_keys.api import RotationProgress as RotationProgress
    from venice_web3_keys.api import RotationResult as RotationResult
    from venice_web3_keys.api import StakeResult as StakeResult
    from venice_web3_keys.api import VeniceKeys as VeniceKeys
    from venice_web3_keys.challenge import SigningNotice as SigningNotice
    from venice_web3_keys.errors import *  # noqa: F403
    from venice_web3_keys.flows._result import StakeProgress as StakeProgress
    from venice_web3_keys.flows.provision import ProvisionResult as ProvisionResult
    from venice_web3_keys.secret import ApiKeySecret as ApiKeySecret
    from venice_web3_keys.secret import SecretValue as SecretValue
    from venice_web3_keys.settings import Settings as Settings
    from venice_web3_keys.settings import load_settings as load_settings
    from venice_web3_keys.sinks import EnvFileSink as EnvFileSink
    from venice_web3_keys.sinks import FileSink as FileSink
    from venice_web3_keys.sinks import KeyringSink as KeyringSink
    from venice_web3_keys.sinks import PrintSink as PrintSink
    from venice_web3_keys.sinks import SecretSink as SecretSink
    from venice_web3_keys.sinks import SinkReceipt as SinkReceipt
