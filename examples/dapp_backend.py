"""A small dApp backend: one capped Venice key per customer, rotation, revocation on churn.

The operator's wallet (holding sVVV) mints the backend's ADMIN key once; after that the backend
runs on that admin key alone. Customer secrets go to the backend's own store through a custom
sink (here an in-memory vault; in production your database or secrets manager).

    python examples/dapp_backend.py           # needs VENICE_ADMIN_KEY, or a wallet to mint one

Run against the sandbox: `python -m venice_web3_keys.sandbox > .env`, then the line above.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from decimal import Decimal
from typing import Any

from venice_web3_keys import (
    ApiKeySecret,
    SinkReceipt,
    VeniceKeys,
    VeniceKeysError,
    load_settings,
)


class Vault:
    """Stands in for the backend's secret store: customer id -> current key secret."""

    def __init__(self) -> None:
        self._secrets: dict[str, ApiKeySecret] = {}

    def sink_for(self, customer_id: str) -> VaultSink:
        return VaultSink(self, customer_id)

    def store(self, customer_id: str, secret: ApiKeySecret) -> None:
        self._secrets[customer_id] = secret

    def drop(self, customer_id: str) -> None:
        self._secrets.pop(customer_id, None)

    def get(self, customer_id: str) -> ApiKeySecret | None:
        return self._secrets.get(customer_id)


class VaultSink:
    """A SecretSink (prepare / deliver / abort) that writes into the Vault."""

    kind = "vault"

    def __init__(self, vault: Vault, customer_id: str) -> None:
        self.vault = vault
        self.customer_id = customer_id
        self.location = f"vault:{customer_id}"

    def prepare(self) -> None:
        """Nothing to reserve in memory; a database sink would check its connection here."""

    def deliver(self, secret: ApiKeySecret, *, key_id: str) -> SinkReceipt:
        self.vault.store(self.customer_id, secret)
        return SinkReceipt(kind=self.kind, location=self.location)

    def abort(self) -> None:
        """No key was made: nothing was stored."""


class Backend:
    """What a dApp needs: give a customer a capped key, rotate it, take it away."""

    def __init__(self, keys: VeniceKeys, vault: Vault, *,
                 monthly_usd_cap: Decimal = Decimal(5)) -> None:
        self.keys = keys
        self.vault = vault
        self.cap = monthly_usd_cap

    def onboard(self, customer_id: str) -> dict[str, Any]:
        key = self.keys.provision_customer_key(customer_id, usd_limit=self.cap,
                                               limit_period="MONTH", expires_at="90d",
                                               sink=self.vault.sink_for(customer_id))
        return key.to_public_dict()

    def rotate(self, customer_id: str) -> dict[str, Any]:
        (current,) = self.keys.customer_keys(customer_id)
        result = self.keys.rotate_key(current.id, sink=self.vault.sink_for(customer_id))
        return result.to_public_dict()

    def churn(self, customer_id: str) -> list[str]:
        revoked = self.keys.revoke_customer_keys(customer_id)
        self.vault.drop(customer_id)
        return revoked


def admin_keys(env_file: str | None = None) -> VeniceKeys:
    """VeniceKeys on VENICE_ADMIN_KEY; without one, mint an ADMIN key with the wallet first."""
    settings = load_settings(env_file)
    if settings.admin_key is not None:
        return VeniceKeys(settings)
    bootstrap_vault = Vault()
    with VeniceKeys(settings) as wallet_only:
        admin = wallet_only.mint_key(api_key_type="ADMIN", description="dapp backend admin",
                                     sink=bootstrap_vault.sink_for("admin"))
    print(f"minted backend ADMIN key {admin.id} (…{admin.last6}) with the wallet",
          file=sys.stderr)
    secret = bootstrap_vault.get("admin")
    assert secret is not None
    return VeniceKeys(dataclasses.replace(settings, admin_key=secret))


def main() -> int:
    vault = Vault()
    try:
        with admin_keys() as keys:
            backend = Backend(keys, vault)
            report: dict[str, Any] = {
                "onboarded": [backend.onboard("alice"), backend.onboard("bob")],
                "rotated": backend.rotate("alice"),
                "churned": {"bob": backend.churn("bob")},
            }
            report["active"] = {c: [k.id for k in keys.customer_keys(c)]
                                for c in ("alice", "bob")}
            alice = vault.get("alice")
            assert alice is not None
            report["aliceVaultLast6"] = alice.last6
    except VeniceKeysError as exc:
        print(f"backend failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
