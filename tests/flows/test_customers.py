"""dApp customer keys: `cust:<id>` capped INFERENCE keys, lookup, revocation on churn."""

from __future__ import annotations

from typing import Any

import pytest

from venice_web3_keys.api import AsyncVeniceKeys
from venice_web3_keys.errors import InvalidInputError


async def test_provision_find_and_churn(vk: AsyncVeniceKeys) -> None:
    a1 = await vk.provision_customer_key("acme", usd_limit=10)
    a2 = await vk.provision_customer_key("acme", diem_limit=1, limit_period="EPOCH")
    other = await vk.provision_customer_key("acme2", usd_limit=1)  # a prefix must not match

    assert a1.description == "cust:acme" and a1.api_key_type == "INFERENCE"
    assert a1.limit_period == "MONTH"  # the default period for customer caps
    found = {k.id for k in await vk.customer_keys("acme")}
    assert found == {a1.id, a2.id}

    revoked = await vk.revoke_customer_keys("acme")
    assert set(revoked) == {a1.id, a2.id}
    assert await vk.customer_keys("acme") == []
    assert [k.id for k in await vk.customer_keys("acme2")] == [other.id]
    assert await vk.revoke_customer_keys("acme") == []


@pytest.mark.parametrize("customer_id", ["", "a b", "x" * 49, "cust:acme", "ü", "a/b"])
async def test_bad_customer_ids_are_refused_locally(vk: AsyncVeniceKeys, request_log: Any,
                                                    customer_id: str) -> None:
    log = request_log()
    with pytest.raises(InvalidInputError) as info:
        await vk.provision_customer_key(customer_id, usd_limit=1)
    assert info.value.field == "customer_id"
    with pytest.raises(InvalidInputError):
        await vk.customer_keys(customer_id)
    with pytest.raises(InvalidInputError):
        await vk.revoke_customer_keys(customer_id)
    assert log.entries() == []


async def test_a_customer_key_needs_a_cap(vk: AsyncVeniceKeys, request_log: Any) -> None:
    log = request_log()
    with pytest.raises(InvalidInputError, match="cap"):
        await vk.provision_customer_key("nocap")
    with pytest.raises(InvalidInputError):
        await vk.provision_customer_key("neg", usd_limit=-1)
    assert log.entries() == []


async def test_churn_reports_keys_it_could_not_revoke(venice_sandbox: Any,
                                                      vk: AsyncVeniceKeys) -> None:
    from venice_web3_keys.errors import PartialRevokeError
    from venice_web3_keys.sandbox.emulator.faults import Fault

    k1 = await vk.provision_customer_key("flaky", usd_limit=1)
    k2 = await vk.provision_customer_key("flaky", usd_limit=1)
    venice_sandbox.emulator.faults.add("DELETE /api_keys", Fault.error(500))
    with pytest.raises(PartialRevokeError, match="could NOT revoke") as info:
        await vk.revoke_customer_keys("flaky")
    remaining = [k.id for k in await vk.customer_keys("flaky")]
    assert info.value.failed_ids == remaining and info.value.customer_id == "flaky"
    assert set(info.value.revoked_ids) == {k1.id, k2.id} - set(remaining)
    assert len(remaining) == 1 and remaining[0] in str(info.value)
    assert set(remaining) < {k1.id, k2.id}
    assert await vk.revoke_customer_keys("flaky") == remaining
