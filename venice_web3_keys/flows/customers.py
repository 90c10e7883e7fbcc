"""Per-customer keys for dApp backends, tracked by the description convention `cust:<id>`.

The description is the only free-form field a key has, so it carries the customer id; the id is
restricted to a short safe alphabet so that `cust:a` can never match `cust:a b` or a prefix trick.
Customer keys are always INFERENCE keys with a spend cap: a leaked customer key can cost at most
its cap per period.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Unpack

from venice_web3_keys.errors import (
    APIError,
    InvalidInputError,
    KeyNotFoundError,
    PartialRevokeError,
)
from venice_web3_keys.flows._spec import KeyOptions, build_spec
from venice_web3_keys.flows.create import SETTLE_DELAYS, create_key
from venice_web3_keys.secret import get_logger

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from venice_web3_keys.client.async_client import AsyncVeniceClient
    from venice_web3_keys.flows._result import NewKey
    from venice_web3_keys.models import ApiKey, KeySpec
    from venice_web3_keys.sinks import SecretSink

log = get_logger("venice_web3_keys.flows.customers")

PREFIX = "cust:"
_CUSTOMER_ID = re.compile(r"[A-Za-z0-9._-]{1,48}")


_RULE = "1-48 characters of letters, digits, '.', '_' or '-'"


def _is_valid(customer_id: object) -> bool:
    # A `VENICE_...` id is a pasted secret (or the start of one): never send it as a description.
    return (isinstance(customer_id, str) and _CUSTOMER_ID.fullmatch(customer_id) is not None
            and not customer_id.upper().startswith("VENICE_"))


def validate_customer_id(customer_id: str) -> str:
    """1-48 characters of [A-Za-z0-9._-] (so `cust:<id>` fits Venice's 64-char description)."""
    if not _is_valid(customer_id):
        raise InvalidInputError(f"customer_id must be {_RULE}", field="customer_id")
    return customer_id


def validate_customer_ids(customer_ids: Iterable[str], *,
                          labels: Sequence[str] | None = None) -> list[str]:
    """Every id checked before anything is sent; duplicates dropped, first occurrence kept.

    The error names each bad id by its label (default `#1`, `#2`...; the CLI passes line
    numbers) and shows the id only when it is short and cannot be a secret.
    """
    if isinstance(customer_ids, str | bytes):
        raise InvalidInputError("customer_ids must be a list of ids, not one string",
                                field="customer_ids")
    ids = list(customer_ids)
    names = list(labels) if labels is not None else [f"#{n}" for n in range(1, len(ids) + 1)]
    bad = [(name, value) for name, value in zip(names, ids, strict=True)
           if not _is_valid(value)]
    if bad:
        shown = ", ".join(f"{name} {_show(value)}" for name, value in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise InvalidInputError(
            f"{len(bad)} customer id(s) are not valid ({shown}{more}): each must be {_RULE}; "
            "nothing was sent", field="customer_ids")
    return list(dict.fromkeys(ids))


def _show(value: object) -> str:
    if not isinstance(value, str):
        return f"(a {type(value).__name__}, not a string)"
    if "VENICE_" in value.upper() or len(value) > 60:
        return "(not shown: it may be a secret)"
    return repr(value)


def customer_description(customer_id: str) -> str:
    return PREFIX + validate_customer_id(customer_id)


async def provision_customer_key(
    client: AsyncVeniceClient,
    customer_id: str,
    *,
    sink: SecretSink | None = None,
    settle_delays: Sequence[float] = SETTLE_DELAYS,
    **options: Unpack[KeyOptions],
) -> NewKey:
    """A capped INFERENCE key described `cust:<id>`; a USD or DIEM cap is required."""
    spec = customer_spec(customer_id, **options)
    return await create_key(client, spec, sink=sink, settle_delays=settle_delays)


def customer_spec(customer_id: str, **options: Unpack[KeyOptions]) -> KeySpec:
    """The KeySpec of a customer's key; InvalidInputError (nothing sent) when it has no cap.

    limit_period defaults to MONTH: a per-customer cap is usually a monthly budget.
    """
    options.setdefault("limit_period", "MONTH")
    spec = build_spec(
        api_key_type="INFERENCE", description=customer_description(customer_id), **options)
    if spec.usd_limit is None and spec.diem_limit is None:
        raise InvalidInputError(
            "a customer key needs a spend cap: set usd_limit or diem_limit", field="usd_limit"
        )
    return spec


async def customer_keys(client: AsyncVeniceClient, customer_id: str) -> list[ApiKey]:
    """The customer's active keys (exact description match), newest first as Venice lists them."""
    description = customer_description(customer_id)
    return [k for k in await client.list_keys() if k.description == description]


async def revoke_customer_keys(client: AsyncVeniceClient, customer_id: str) -> list[str]:
    """Revoke every key of the customer (churn); returns the ids revoked.

    Tries every key even if one fails, then raises PartialRevokeError with both lists.
    """
    revoked: list[str] = []
    failed: list[str] = []
    for key in await customer_keys(client, customer_id):
        try:
            await client.delete_key(key.id)
        except KeyNotFoundError:
            log.info("customer key %s was already gone", key.id)
        except APIError as exc:
            log.warning("could not revoke customer key %s: %s", key.id, type(exc).__name__)
            failed.append(key.id)
        else:
            revoked.append(key.id)
    if failed:
        raise PartialRevokeError(
            f"revoked {len(revoked)} key(s) of customer {customer_id!r} but could NOT revoke "
            f"{', '.join(failed)}; try again.",
            customer_id=customer_id, revoked_ids=revoked, failed_ids=failed,
        )
    return revoked
