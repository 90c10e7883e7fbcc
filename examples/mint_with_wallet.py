"""A wallet holder's mint script: check the wallet on Base, then mint a capped INFERENCE key.

Settings come from the environment or a .env file (VENICE_WALLET_KEYSTORE +
VENICE_WALLET_PASSWORD_FILE, or VENICE_WALLET_PRIVATE_KEY; BASE_RPC_URL; VENICE_API_BASE_URL).
The secret goes to a new 0600 file and is never printed.

    python examples/mint_with_wallet.py --out ~/.venice/key.txt --usd-limit 5 --expires 30d

Try it on the sandbox: `python -m venice_web3_keys.sandbox > .env`, then run the line above.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal

from venice_web3_keys import FileSink, NotEligibleError, VeniceKeys, VeniceKeysError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="new file for the secret (mode 0600)")
    parser.add_argument("--description", default="minted by mint_with_wallet.py")
    parser.add_argument("--usd-limit", type=Decimal, default=None)  # exact: 0.1 stays 0.1
    parser.add_argument("--diem-limit", type=Decimal, default=None)
    parser.add_argument("--expires", default=None, help="e.g. 2026-12-31 or 30d")
    parser.add_argument("--env-file", default=None)
    args = parser.parse_args(argv)

    try:
        with VeniceKeys.from_env(args.env_file) as vk:
            status = vk.wallet_status()
            print(f"wallet {status.address} on chain {status.chain_id}: "
                  + ", ".join(f"{k} {v.normalize():f}" for k, v in status.balances.items()),
                  file=sys.stderr)
            key = vk.mint_key(
                description=args.description,
                usd_limit=args.usd_limit,
                diem_limit=args.diem_limit,
                limit_period="MONTH" if (args.usd_limit or args.diem_limit) else None,
                expires_at=args.expires,
                sink=FileSink(args.out),
            )
    except NotEligibleError as exc:
        print(f"cannot mint: {exc}", file=sys.stderr)
        return 3
    except VeniceKeysError as exc:
        print(f"mint failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(key.to_public_dict()))  # id, last6, fingerprint, where the secret went
    return 0


if __name__ == "__main__":
    sys.exit(main())
