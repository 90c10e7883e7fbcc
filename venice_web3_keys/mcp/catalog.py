"""The one list of MCP tools: each tool's name, title, hints, whether it makes a key, whether the
human confirms it by default, and the description a model reads when choosing a tool.

Everything else is derived from it: the policy's tool sets, the annotations, which tools a
read-only server registers. No other module spells a tool's name. Descriptions may hold two
placeholders, filled in at registration from the operator's settings: `$policy` (the rules
bearing on the tool) and `$new_key_result` (where a new secret goes). A changed description is a
reviewed diff: see tests/mcp/__toolsnaps__/.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mcp.types import ToolAnnotations

PolicyScope = Literal["all", "new_key", "update", "revoke", "rotate", "stake"]


@dataclass(frozen=True)
class ToolSpec:
    """One tool, described once."""

    name: str
    title: str
    read_only: bool
    destructive: bool
    idempotent: bool
    description: str
    makes_key: bool = False
    confirm: bool = False  # in the built-in policy's `confirm_tools`
    always_confirm: bool = False  # the human is asked whatever the policy says (moves funds)
    policy_scope: PolicyScope | None = None  # which rules `$policy` lists

    @property
    def annotations(self) -> ToolAnnotations:
        return ToolAnnotations(
            title=self.title,
            read_only_hint=self.read_only,
            destructive_hint=self.destructive,
            idempotent_hint=self.idempotent,
            open_world_hint=True,  # every tool talks to Venice or to Base, outside this server
        )


# --- reading -------------------------------------------------------------------------------------
WALLET_STATUS = ToolSpec(
    name="venice_wallet_status",
    title="Wallet status on Base",
    read_only=True,
    destructive=False,
    idempotent=True,
    description="Read the ETH, VVV, staked VVV (sVVV) and DIEM balances of a wallet on Base "
    "(whole-token decimal strings), `eligible`: whether it holds sVVV and so can mint a Venice "
    "API key, and `can_stake`: whether it holds unstaked VVV and some ETH for gas. Without "
    "`address` it reports the server's own minting wallet (its private key never leaves the "
    "server). Call it before venice_mint_key; if eligible is false, minting will fail: if "
    "can_stake is true and venice_stake_vvv is offered, stake some VVV first; otherwise ask the "
    "human operator, or use venice_create_key if offered. Free: read-only calls to Base, no "
    "transaction. Fails with ChainUnreachableError when Base cannot be reached (retry later).",
)
LIST_KEYS = ToolSpec(
    name="venice_list_keys",
    title="List API keys",
    read_only=True,
    destructive=False,
    idempotent=True,
    description="List every API key on the Venice account: id, type, description, expiry, last "
    "6 characters, spend caps, limit period, model privacy, recent usage, and "
    "`made_by_this_server` (update/rotate/revoke may be limited to those). Never returns "
    "secrets. Use it to find a key_id (match on description or last6). Free, read-only. Needs "
    "the operator's admin key: MissingCredentialsError means none is configured; ask the "
    "operator.",
)
GET_KEY = ToolSpec(
    name="venice_get_key",
    title="Get one API key",
    read_only=True,
    destructive=False,
    idempotent=True,
    description="Get one API key by id (UUID from venice_list_keys): settings, caps, usage this "
    "period, expiry, last 6 characters and whether this server made it. Never returns the "
    "secret. KeyNotFoundError means the key does not exist any more (revoked or expired). Free, "
    "read-only; needs the operator's admin key.",
)
RATE_LIMITS = ToolSpec(
    name="venice_rate_limits",
    title="Rate limits and balances",
    read_only=True,
    destructive=False,
    idempotent=True,
    description="Status of the Venice key this server is configured with (the operator's key, "
    "not a key you minted): access_permitted (can it call models now), api_tier, balances it "
    "can still spend per currency (clamped to its caps), key_expiration, next_epoch_begins "
    "(daily reset) and rate_limits (RPM/RPD/TPM per model). Use it to explain 402/429 errors. "
    "For the whole account's funds use venice_billing_balance. Free, read-only.",
)
RATE_LIMIT_LOG = ToolSpec(
    name="venice_rate_limit_log",
    title="Rate-limit breaches",
    read_only=True,
    destructive=False,
    idempotent=True,
    description="The account's last rate-limit breaches, newest first (api_key_id, model_id, "
    "rate_limit_type such as RPM/RPD/TPM, timestamp). Use it after 429 errors to see which key "
    "and model hit which limit. Free, read-only; needs the operator's admin key.",
)
BILLING_BALANCE = ToolSpec(
    name="venice_billing_balance",
    title="Account balance",
    read_only=True,
    destructive=False,
    idempotent=True,
    description="The whole Venice account's funds: can_consume, consumption_currency (what is "
    "spent first), balances {usd, diem, bundled_credits, earned_credits} and "
    "diem_epoch_allocation (DIEM per day from staking). Every key's spending draws on these. Use "
    "it before making keys or when calls fail for lack of funds; per-key caps are not applied "
    "here (see venice_rate_limits). Free, read-only; needs the operator's admin key.",
)

# --- making keys: each call makes one more key, so neither idempotent nor destructive ----------
MINT_KEY = ToolSpec(
    name="venice_mint_key",
    title="Mint a key with the wallet",
    read_only=False,
    destructive=False,
    idempotent=False,
    makes_key=True,
    policy_scope="new_key",
    description="Mint a NEW Venice API key with the server's wallet (sign-in with the wallet; no "
    "admin key needed). The wallet must hold staked VVV on Base: check venice_wallet_status "
    "first; NoStakedVVVError / NotEligibleError mean it holds none (ask the operator; do not "
    "retry). The key belongs to the wallet's Venice account. Prefer this over venice_create_key "
    "when the wallet is eligible. Cost: no transaction and no gas, but every call makes one more "
    "key that can spend the account's funds up to its caps, and counts toward the hourly cap on "
    "new keys. Result: $new_key_result $policy RateLimitError: wait, then retry.",
)
CREATE_KEY = ToolSpec(
    name="venice_create_key",
    title="Create a key (admin)",
    read_only=False,
    destructive=False,
    idempotent=False,
    makes_key=True,
    policy_scope="new_key",
    description="Create a NEW Venice API key with the operator's admin key, on the admin key's "
    "account (no wallet needed). Use it when venice_mint_key is not offered or the wallet cannot "
    "mint; to replace an existing key use venice_rotate_key instead. Cost: free to call, but "
    "every call makes one more key that can spend the account's funds up to its caps, and counts "
    "toward the hourly cap on new keys. If the outcome is unclear (AmbiguousCreateError) the "
    "message names any orphan key and whether it was revoked; check venice_list_keys before "
    "trying again. Result: $new_key_result $policy RateLimitError: wait, then retry.",
)

# --- changing existing keys ----------------------------------------------------------------------
UPDATE_KEY = ToolSpec(
    name="venice_update_key",
    title="Update a key's settings",
    read_only=False,
    # Overwrites settings (may remove a cap); not idempotent because a relative expiry such as
    # "30d" is counted from each call.
    destructive=True,
    idempotent=False,
    confirm=True,
    policy_scope="update",
    description="Change settings of an existing key in place: description, expiry (expires_at, "
    "or remove_expiry), usd_limit / diem_limit (a number, or null to remove that cap; omit to "
    "keep it), limit_period, model_privacy. The secret does not change, so nothing else needs "
    "updating; use this (not rotate) to raise or lower caps or extend an expiry. Takes effect at "
    "once for everything using the key. Result: the key as it now is (no secret). Free. The "
    "server may ask the human to confirm; a 'no' is a refusal (rule: human_confirmation). "
    "$policy",
)
REVOKE_KEY = ToolSpec(
    name="venice_revoke_key",
    title="Revoke a key",
    read_only=False,
    destructive=True,
    idempotent=True,  # a second call finds no key and changes nothing (revoked=false)
    confirm=True,
    policy_scope="revoke",
    description="Permanently delete (revoke) an API key by id. Everything using it fails from "
    "then on and it cannot be undone; if something still needs a working key, use "
    "venice_rotate_key instead. Result: revoked_key_id and revoked (false = the key was already "
    "gone; nothing changed, so retrying is safe). Free. The server may ask the human to "
    "confirm; a 'no' is a refusal (rule: human_confirmation). $policy",
)
ROTATE_KEY = ToolSpec(
    name="venice_rotate_key",
    title="Rotate a key",
    read_only=False,
    destructive=True,
    idempotent=False,
    makes_key=True,
    confirm=True,
    policy_scope="rotate",
    description="Replace a key's secret: make a successor with the same type, caps, period, "
    "privacy and expiry, save its secret, check it works, then revoke the old key. Use it when a "
    "secret may have leaked or is due for rotation; prefer it to create + revoke (one call, and "
    "the successor is checked before the old key goes). The old secret stops working at once: "
    "move whatever used it to the new file. Free to call; counts as one new key toward the "
    "hourly cap. The server may ask the human to confirm; a 'no' is a refusal (rule: "
    "human_confirmation). Result: revoked_key_id, verified (the successor worked) and new_key: "
    "$new_key_result $policy",
)

# --- moving funds -------------------------------------------------------------------------------
STAKE_VVV = ToolSpec(
    name="venice_stake_vvv",
    title="Stake VVV for sVVV",
    read_only=False,
    # Moves VVV into staking (unstaking takes a 7-day cooldown) and spends ETH on gas.
    destructive=True,
    idempotent=False,
    confirm=True,
    always_confirm=True,
    policy_scope="stake",
    description="Stake VVV from the server's wallet for sVVV on Base, so that the wallet can "
    "mint keys (venice_mint_key needs sVVV; any amount is enough). `amount`: whole VVV as a "
    "decimal string such as \"1\" or \"2.5\". Check venice_wallet_status first (VVV balance, "
    "can_stake). Simulated first for the exact amount: nothing is signed if it would revert or "
    "the wallet's ETH cannot pay the gas. Then it approves exactly `amount` VVV to the staking "
    "contract (only when the allowance is short), stakes, and checks that sVVV rose by "
    "`amount`. It costs ETH gas for one or two transactions and locks the VVV into staking "
    "(getting it back takes a 7-day cooldown, not offered here). The human is always asked to "
    "confirm; a 'no' is a refusal (rule: human_confirmation). Result: approve_tx and stake_tx "
    "(null when not sent), gas_used, fees_paid_eth, svvv_before, svvv_after. Errors: "
    "AmountExceedsBalanceError (more than the wallet holds), InsufficientGasError (the wallet "
    "needs ETH: ask the operator), SimulationRevertedError (nothing sent; do not retry "
    "unchanged), TransactionTimeoutError (sent but not yet mined: do NOT stake again; check "
    "venice_wallet_status later). $policy",
)

CATALOG: tuple[ToolSpec, ...] = (
    WALLET_STATUS,
    LIST_KEYS,
    GET_KEY,
    RATE_LIMITS,
    RATE_LIMIT_LOG,
    BILLING_BALANCE,
    MINT_KEY,
    CREATE_KEY,
    UPDATE_KEY,
    REVOKE_KEY,
    ROTATE_KEY,
    STAKE_VVV,
)
BY_NAME: dict[str, ToolSpec] = {spec.name: spec for spec in CATALOG}

ALL_TOOLS: tuple[str, ...] = tuple(spec.name for spec in CATALOG)
READ_TOOLS: tuple[str, ...] = tuple(spec.name for spec in CATALOG if spec.read_only)
WRITE_TOOLS: tuple[str, ...] = tuple(spec.name for spec in CATALOG if not spec.read_only)
KEY_MAKING_TOOLS: frozenset[str] = frozenset(spec.name for spec in CATALOG if spec.makes_key)
CONFIRMED_BY_DEFAULT: frozenset[str] = frozenset(spec.name for spec in CATALOG if spec.confirm)
