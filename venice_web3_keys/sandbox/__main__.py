"""`python -m venice_web3_keys.sandbox`: run chain + emulator until Ctrl-C / SIGTERM.

Prints the settings a client needs as `.env` lines, including the private key of a funded
throwaway wallet; printing that key is the point here, and it is labelled sandbox-only.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import FrameType

from venice_web3_keys import lean_imports
from venice_web3_keys.errors import VeniceKeysError
from venice_web3_keys.sandbox import DEFAULT_STARTING_USD, MINT_VARIANTS
from venice_web3_keys.sandbox.runner import Sandbox

BANNER = "SANDBOX ONLY — throwaway wallet, never fund it on a real chain"


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m venice_web3_keys.sandbox",
        description="Run the Venice API emulator and a local Base chain (anvil) on loopback.")
    parser.add_argument("--variant", choices=MINT_VARIANTS, default="jwt",
                        help="web3 mint challenge variant (default: jwt, what Venice serves today)")
    parser.add_argument("--persist", type=Path, metavar="FILE",
                        help="keep the emulator's state in this JSON file across runs")
    parser.add_argument("--port", type=int, default=0, metavar="N",
                        help="emulator port on 127.0.0.1 (default: a free port)")
    parser.add_argument("--starting-usd", type=_amount, default=DEFAULT_STARTING_USD,
                        metavar="USD", help="USD credit of every new account (default: "
                        f"{DEFAULT_STARTING_USD}; 0 is a new Venice account)")
    parser.add_argument("--diem", type=_amount, default=Decimal(10), metavar="N",
                        help="DIEM held by the printed wallet, i.e. its daily DIEM allowance "
                        "(default: 10)")
    parser.add_argument("--vvv", type=_amount, default=Decimal(50), metavar="N",
                        help="unstaked VVV held by the printed wallet, to try `venice-keys wallet "
                        "stake` (default: 50)")
    return parser


def main(argv: list[str] | None = None) -> int:
    lean_imports.defer_bls12_381()
    args = build_parser().parse_args(argv)
    return serve(variant=args.variant, persist=args.persist, port=args.port,
                 starting_usd=args.starting_usd, diem=args.diem, vvv=args.vvv)


def serve(*, variant: str = "jwt", persist: Path | None = None, port: int = 0,
          starting_usd: Decimal = DEFAULT_STARTING_USD, diem: Decimal = Decimal(10),
          vvv: Decimal = Decimal(50)) -> int:
    """Start the sandbox, print its .env lines, serve until Ctrl-C / SIGTERM; the exit code."""
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Handlers first, so a Ctrl-C during start-up still ends in an orderly stop.
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    try:
        sandbox = Sandbox.start(mint_variant=variant, persist_path=persist, port=port,
                                starting_usd=starting_usd)
    except VeniceKeysError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        address, key = sandbox.new_wallet(diem=diem, vvv=vvv)
        lines = [
            f"# {BANNER}",
            f"# Venice API emulator ({variant} mint) + local Base chain (anvil, chain id "
            f"{sandbox.chain_id}), ready in {sandbox.ready_seconds:.2f}s",
            f"# wallet {address}: 1 ETH, 100 sVVV (staked VVV), {vvv} VVV (unstaked), "
            f"{diem} DIEM; new accounts get ${starting_usd} of credit",
            *(f"{name}={value}" for name, value in sandbox.env(key).items()),
            "# Fund any other wallet: venice-keys sandbox fund ADDRESS --svvv 100 --eth 1",
            "# Ctrl-C stops the sandbox.",
        ]
        print("\n".join(lines), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
    print("# sandbox stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
