"""A faithful local emulator of Venice's API-key routes and wallet mint, for tests and the sandbox.

`EmulatorState` is the Python API (accounts, keys, faults, clock, persistence); `create_app`
serves it as a Starlette ASGI app. Importing this package starts nothing and does not import
eth_account (the mint imports it on first use).
"""

from __future__ import annotations

from venice_web3_keys.sandbox.emulator.app import create_app, route_name
from venice_web3_keys.sandbox.emulator.clock import Clock, FakeClock, SystemClock
from venice_web3_keys.sandbox.emulator.faults import ROUTES, Fault
from venice_web3_keys.sandbox.emulator.state import EmulatorState, RecordedRequest

__all__ = [
    "ROUTES",
    "Clock",
    "EmulatorState",
    "FakeClock",
    "Fault",
    "RecordedRequest",
    "SystemClock",
    "create_app",
    "route_name",
]
