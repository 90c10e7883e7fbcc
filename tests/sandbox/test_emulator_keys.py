"""Key routes over real HTTP: auth semantics, envelopes, validation, accounts, limits, views."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.fakes import fake_key
from tests.sandbox.emulator_support import Emu, bearer, mint
from venice_web3_keys.sandbox.emulator.state import MAX_ACTIVE_KEYS

pytest_plugins = ["tests.sandbox.emulator_fixtures"]


def create(emu: Emu, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"apiKeyType": "INFERENCE", "description": "k", **fields}
    response = emu.http.post("/api_keys", json=body, headers=headers)
    assert response.status_code == 200, response.json().get("error")
    data: dict[str, Any] = response.json()["data"]
    return data


ADMIN_ROUTES = [
    ("GET", "/api_keys"), ("POST", "/api_keys"), ("PATCH", "/api_keys"),
    ("DELETE", "/api_keys?id=x"), ("GET", "/api_keys/some-id"),
    ("GET", "/api_keys/rate_limits/log"), ("GET", "/billing/balance"),
]


@pytest.mark.parametrize(("method", "path"), [*ADMIN_ROUTES, ("GET", "/api_keys/rate_limits")])
def test_no_credentials_is_a_402_discovery_body(emu: Emu, method: str, path: str) -> None:
    response = emu.http.request(method, path, json={"x": 1} if method != "GET" else None)
    assert response.status_code == 402
    body = response.json()
    assert body["error"] == "Authentication required"
    assert body["x402Version"] == 2
    assert body["accepts"][0]["network"] == "eip155:8453"
    info = body["extensions"]["sign-in-with-x"]["info"]
    assert info["domain"] == emu.origin.removeprefix("http://") and len(info["nonce"]) >= 8
    assert body["resource"]["url"].endswith(path.split("?")[0])
    assert body["authOptions"]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_bad_key_and_inference_key(emu: Emu, method: str, path: str) -> None:
    _, admin = emu.admin()
    inference = create(emu, admin)["apiKey"]
    for headers in (bearer(fake_key("ADMIN", "unknown")), {"Authorization": "Basic abc"},
                    {"SIGN-IN-WITH-X": "e30="}):
        response = emu.http.request(method, path, headers=headers)
        assert (response.status_code, response.json()) == (401, {
            "error": "Authentication failed"})
    response = emu.http.request(method, path, headers=bearer(inference))
    assert (response.status_code, response.json()) == (401, {"error": "Admin API key required"})


def test_any_key_reads_its_own_rate_limits(emu: Emu) -> None:
    admin_id, admin = emu.admin("0x" + "ab" * 20)
    emu.state.set_balances("0x" + "ab" * 20, usd=50, diem=100)
    limited = create(emu, admin, consumptionLimit={"usd": 5}, expiresAt="2026-12-31")
    emu.state.record_usage(limited["id"], usd="1.5")
    data = emu.http.get("/api_keys/rate_limits", headers=bearer(limited["apiKey"])).json()["data"]
    assert data["balances"] == {"USD": 3.5, "DIEM": 100.0}  # clamped to the key's limit
    assert data["accessPermitted"] is True
    assert data["keyExpiration"] == "2026-12-31T00:00:00.000Z"
    assert data["nextEpochBegins"] == "2026-01-16T00:00:00.000Z"
    assert data["rateLimits"][0]["rateLimits"][0]["type"] == "RPM"
    whole = emu.http.get("/api_keys/rate_limits", headers=admin).json()["data"]
    assert whole["balances"] == {"USD": 50.0, "DIEM": 100.0}
    emu.state.set_balances("0x" + "ab" * 20, usd=0)
    empty = emu.http.get("/api_keys/rate_limits", headers=admin).json()["data"]
    assert (empty["accessPermitted"], empty["balances"]) == (False, {"USD": 0.0})
    assert admin_id


def test_create_list_get_delete_round_trip(emu: Emu) -> None:
    _, admin = emu.admin()
    first = create(emu, admin, apiKeyType="ADMIN", description="one")
    emu.clock.advance(1)
    second = create(emu, admin, description="two", expiresAt="2026-03-01T10:00:00Z",
                    consumptionLimit={"usd": 50, "diem": 10}, limitPeriod="MONTH",
                    modelPrivacy="PRIVATE_ONLY")
    assert first["apiKey"].startswith("VENICE_ADMIN_KEY_")
    assert second["apiKey"].startswith("VENICE_INFERENCE_KEY_")
    assert second["expiresAt"] == "2026-03-01T10:00:00.000Z"
    listed = emu.http.get("/api_keys", headers=admin).json()
    assert listed["object"] == "list"
    ids = [k["id"] for k in listed["data"]]
    assert ids[:2] == [second["id"], first["id"]]  # newest first
    assert all("apiKey" not in k for k in listed["data"])
    got = emu.http.get(f"/api_keys/{second['id']}", headers=admin).json()
    assert set(got) == {"data"}
    key = got["data"]
    assert key["last6Chars"] == second["apiKey"][-6:]
    assert key["consumptionLimits"] == {"usd": 50, "diem": 10, "vcu": None}
    assert (key["limitPeriod"], key["modelPrivacy"]) == ("MONTH", "PRIVATE_ONLY")
    assert emu.http.delete("/api_keys", params={"id": second["id"]},
                           headers=admin).json() == {"success": True}
    assert emu.http.get("/api_keys/rate_limits",
                        headers=bearer(second["apiKey"])).status_code == 401  # immediate
    response = emu.http.request("DELETE", "/api_keys", json={"id": first["id"]}, headers=admin)
    assert response.json() == {"success": True}
    for key_id in (first["id"], "00000000-0000-4000-8000-000000000000"):
        response = emu.http.delete("/api_keys", params={"id": key_id}, headers=admin)
        assert (response.status_code, response.json()) == (400, {
            "error": "API key could not be found"})


def test_usage_strings_and_current_period_only_when_limited(emu: Emu) -> None:
    _, admin = emu.admin()
    plain = create(emu, admin)
    limited = create(emu, admin, consumptionLimit={"diem": 3})
    emu.state.record_usage(limited["id"], usd="10.24236", diem=2.5, vcu=1)
    key = emu.http.get(f"/api_keys/{plain['id']}", headers=admin).json()["data"]
    assert key["usage"] == {"trailingSevenDays": {"usd": "0.0000", "vcu": "0.0000",
                                                  "diem": "0.0000"}}
    assert "currentPeriodUsage" not in key
    key = emu.http.get(f"/api_keys/{limited['id']}", headers=admin).json()["data"]
    assert key["usage"]["trailingSevenDays"] == {"usd": "10.2424", "vcu": "1.0000",
                                                 "diem": "2.5000"}
    assert key["currentPeriodUsage"] == {"usd": "10.2424", "diem": "2.5000"}
    response = emu.http.get("/api_keys/nope", headers=admin)
    assert (response.status_code, response.json()) == (400, {"error": "API key not found"})


def test_patch_semantics(emu: Emu) -> None:
    _, admin = emu.admin()
    key = create(emu, admin, expiresAt="2026-06-01", consumptionLimit={"usd": 5, "diem": 1})
    def patch(**fields: Any) -> Any:
        return emu.http.patch("/api_keys", json={"id": key["id"], **fields}, headers=admin)
    response = patch(description="renamed", consumptionLimit={"usd": None})
    body = response.json()
    assert body["success"] is True
    assert body["data"]["description"] == "renamed"
    assert body["data"]["consumptionLimits"] == {"usd": None, "diem": 1, "vcu": None}
    assert "usage" not in body["data"]
    assert patch(expiresAt="").json()["data"]["expiresAt"] is None
    assert patch(expiresAt="2026-07-01T00:00:00.123Z").json()["data"]["expiresAt"] == (
        "2026-07-01T00:00:00.123Z")
    assert patch(expiresAt=None).json()["data"]["expiresAt"] is None
    data = patch(limitPeriod="LIFETIME", modelPrivacy="PRIVATE_TEXT").json()["data"]
    assert (data["limitPeriod"], data["modelPrivacy"]) == ("LIFETIME", "PRIVATE_TEXT")
    immutable = patch(apiKeyType="ADMIN")
    assert immutable.status_code == 400
    assert immutable.json()["details"]["_errors"] == ["Unrecognized key(s) in object: 'apiKeyType'"]
    missing = emu.http.patch("/api_keys", json={"id": "nope", "description": "x"}, headers=admin)
    assert (missing.status_code, missing.json()) == (400, {"error": "API key not found or expired"})


def test_expired_keys_vanish_everywhere(emu: Emu) -> None:
    _, admin = emu.admin()
    key = create(emu, admin, expiresAt="2026-01-16")
    assert key["id"] in [k["id"] for k in emu.http.get("/api_keys", headers=admin).json()["data"]]
    emu.clock.advance(86400)
    assert key["id"] not in [k["id"] for k in emu.http.get("/api_keys",
                                                           headers=admin).json()["data"]]
    assert emu.http.get("/api_keys/rate_limits",
                        headers=bearer(key["apiKey"])).json() == {"error": "Authentication failed"}
    assert emu.http.get(f"/api_keys/{key['id']}", headers=admin).json() == {
        "error": "API key not found"}
    assert emu.http.patch("/api_keys", json={"id": key["id"], "expiresAt": ""},
                          headers=admin).json() == {"error": "API key not found or expired"}


def test_an_admin_key_sees_only_its_account(emu: Emu) -> None:
    _, alice = emu.admin()
    _, bob = emu.admin()
    bobs = create(emu, bob)
    assert [k["id"] for k in emu.http.get("/api_keys", headers=alice).json()["data"]] != []
    assert bobs["id"] not in [k["id"] for k in emu.http.get("/api_keys",
                                                            headers=alice).json()["data"]]
    assert emu.http.get(f"/api_keys/{bobs['id']}", headers=alice).status_code == 400
    assert emu.http.patch("/api_keys", json={"id": bobs["id"], "description": "x"},
                          headers=alice).status_code == 400
    assert emu.http.delete("/api_keys", params={"id": bobs["id"]},
                           headers=alice).json() == {"error": "API key could not be found"}
    assert emu.http.get(f"/api_keys/{bobs['id']}", headers=bob).status_code == 200


GRIN = "\N{GRINNING FACE}"


def test_description_length_is_counted_in_utf16_code_units(emu: Emu) -> None:
    """64 units is the most: 32 emoji or 64 BMP characters pass, on create and on PATCH."""
    _, admin = emu.admin()
    for text in (GRIN * 32, "\N{EURO SIGN}" * 64, "x" * 62 + GRIN):
        key = create(emu, admin, description=text)
        assert key["description"] == text
        listed = emu.http.get(f"/api_keys/{key['id']}", headers=admin).json()["data"]
        assert listed["description"] == text
    refused = emu.http.patch("/api_keys", json={"id": key["id"], "description": "x" * 63 + GRIN},
                             headers=admin)
    assert refused.status_code == 400
    assert refused.json()["details"]["description"]["_errors"] == [
        "String must contain at most 64 character(s)"]


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    [
        ({"description": ""}, "description", "String must contain at least 1 character(s)"),
        ({"description": "x" * 65}, "description", "String must contain at most 64 character(s)"),
        # zod counts JavaScript's .length: an emoji (outside the BMP) is two UTF-16 code units
        ({"description": GRIN * 64}, "description", "String must contain at most 64 character(s)"),
        ({"description": GRIN * 33}, "description", "String must contain at most 64 character(s)"),
        ({"description": 5}, "description", "Expected string, received number"),
        ({"apiKeyType": "ROOT"}, "apiKeyType",
         "Invalid enum value. Expected 'INFERENCE' | 'ADMIN', received 'ROOT'"),
        ({"limitPeriod": "WEEK"}, "limitPeriod", None),
        ({"modelPrivacy": "NONE"}, "modelPrivacy", None),
        ({"expiresAt": "2026-12-31T00:00:00+01:00"}, "expiresAt", "Invalid input"),
        ({"expiresAt": "2026-12-31T00:00:00.12Z"}, "expiresAt", "Invalid input"),
        ({"expiresAt": "31/12/2026"}, "expiresAt", "Invalid input"),
        ({"expiresAt": None}, "expiresAt", "Invalid input"),  # null only on PATCH
        ({"expiresAt": "2026-02-30"}, "expiresAt", "Invalid date"),
        ({"expiresAt": "2025-12-31"}, "expiresAt", "Expiration date must be in the future"),
    ],
)
def test_create_validation(emu: Emu, fields: dict[str, Any], path: str,
                           message: str | None) -> None:
    _, admin = emu.admin()
    body = {"apiKeyType": "INFERENCE", "description": "k", **fields}
    response = emu.http.post("/api_keys", json=body, headers=admin)
    assert response.status_code == 400
    error = response.json()
    assert error["error"] == "Invalid request parameters"
    assert error["details"]["_errors"] == []
    messages = error["details"][path]["_errors"]
    assert messages and (message is None or messages == [message])
    assert error["issues"][0]["path"] == [path]
    assert emu.http.get("/api_keys", headers=admin).json()["data"].__len__() == 1  # nothing made


@pytest.mark.parametrize(
    ("limit", "message"),
    [(-1, "Number must be greater than or equal to 0"),
     (10_000_000_000, "Number must be less than or equal to 9999999999"),
     ("5", "Invalid input"), (True, "Invalid input")],
)
def test_limit_validation(emu: Emu, limit: Any, message: str) -> None:
    _, admin = emu.admin()
    body = {"apiKeyType": "INFERENCE", "description": "k", "consumptionLimit": {"usd": limit}}
    error = emu.http.post("/api_keys", json=body, headers=admin).json()
    assert error["details"]["consumptionLimit"]["usd"]["_errors"] == [message]
    assert error["issues"][0]["path"] == ["consumptionLimit", "usd"]


def test_accepted_forms_and_structural_errors(emu: Emu) -> None:
    _, admin = emu.admin()
    for expires in ("", "2026-12-31", "2026-12-31T23:59:59Z", "2026-12-31T23:59:59.000Z"):
        assert create(emu, admin, expiresAt=expires)["expiresAt"] in (
            None, "2026-12-31T00:00:00.000Z", "2026-12-31T23:59:59.000Z")
    create(emu, admin, consumptionLimit={"usd": 0, "diem": 9999999999, "vcu": None})
    response = emu.http.post("/api_keys", json={"description": "k", "extra": 1}, headers=admin)
    details = response.json()["details"]
    assert details["_errors"] == ["Unrecognized key(s) in object: 'extra'"]
    assert details["apiKeyType"]["_errors"] == ["Field is required"]
    bad_json = emu.http.post("/api_keys", content=b"{nope", headers=admin)
    assert bad_json.status_code == 400 and bad_json.json()["details"]["_errors"]
    nan = emu.http.post("/api_keys", headers={**admin, "content-type": "application/json"},
                        content=b'{"apiKeyType":"INFERENCE","description":"k",'
                                b'"consumptionLimit":{"usd":NaN}}')
    assert nan.status_code == 400
    array = emu.http.post("/api_keys", json=[1], headers=admin)
    assert array.json()["details"]["_errors"] == ["Expected object, received array"]
    no_id = emu.http.request("DELETE", "/api_keys", headers=admin, json={})
    assert no_id.json()["details"]["id"]["_errors"] == ["Field is required"]


def test_twenty_creations_per_rolling_minute_mints_included(emu: Emu) -> None:
    address, wallet_key = emu.chain.new_wallet(svvv=1)
    admin = mint(emu, address, wallet_key.reveal(), apiKeyType="ADMIN").json()["data"]["apiKey"]
    emu.clock.advance(30)
    for _ in range(19):
        create(emu, bearer(admin))
    blocked = emu.http.post("/api_keys", json={"apiKeyType": "INFERENCE", "description": "k"},
                            headers=bearer(admin))
    assert blocked.status_code == 429
    assert blocked.json() == {"error": "Rate limit exceeded"}
    assert blocked.headers["Retry-After"] == "30"  # the mint leaves the window in 30 s
    assert mint(emu, address, wallet_key.reveal()).status_code == 429
    emu.clock.advance(30)
    create(emu, bearer(admin))  # one slot freed by the mint's expiry from the window
    assert emu.http.post("/api_keys", json={"apiKeyType": "INFERENCE", "description": "k"},
                         headers=bearer(admin)).status_code == 429
    _, other = emu.admin()
    create(emu, other)  # the window is per account


def test_five_hundred_active_keys(emu: Emu) -> None:
    key_id, admin = emu.admin()
    account = emu.state.account(emu.state.keys[key_id].account)
    expiring = None
    for i in range(MAX_ACTIVE_KEYS - 1):
        emu.clock.advance(3.1)  # stay under 20/min
        key, _ = emu.state.create_key(account, {"apiKeyType": "INFERENCE", "description": "k",
                                                **({"expiresAt": "2026-03-01"} if i == 0 else {})})
        expiring = expiring or key.id
    emu.clock.advance(60)
    response = emu.http.post("/api_keys", json={"apiKeyType": "INFERENCE", "description": "k"},
                             headers=admin)
    assert response.status_code == 400
    assert "500" in response.json()["error"]
    emu.clock.advance(50 * 86400)  # the first key expires: expired keys do not count
    assert create(emu, admin)["id"]
    assert emu.state.find_key(account.address, str(expiring)) is None


def test_rate_limit_log_and_billing_balance(emu: Emu) -> None:
    address = "0x" + "cd" * 20
    key_id, admin = emu.admin(address)
    assert emu.http.get("/api_keys/rate_limits/log", headers=admin).json() == {
        "object": "list", "data": []}
    for kind in ("RPM", "TPM", "FAILED_REQUESTS"):
        emu.state.record_rate_limit_event(key_id, limit_type=kind)
        emu.clock.advance(1)
    for _ in range(60):
        emu.state.record_rate_limit_event(key_id, model_id="model:unknown")
    log = emu.http.get("/api_keys/rate_limits/log", headers=admin).json()["data"]
    assert len(log) == 50 and log[0]["modelId"] == "model:unknown"
    assert set(log[0]) == {"apiKeyId", "modelId", "rateLimitTier", "rateLimitType", "timestamp"}
    balance = emu.http.get("/billing/balance", headers=admin).json()
    assert balance == {"canConsume": False, "consumptionCurrency": None,
                       "balances": {"diem": None, "usd": 0.0, "bundledCredits": None,
                                    "earnedCredits": None},
                       "diemEpochAllocation": 0.0}
    emu.state.set_balances(address, usd=Decimal("25"), diem=Decimal("90.5"),
                           diem_epoch_allocation=100)
    balance = emu.http.get("/billing/balance", headers=admin).json()
    assert (balance["consumptionCurrency"], balance["canConsume"]) == ("DIEM", True)
    assert balance["balances"]["diem"] == 90.5 and balance["diemEpochAllocation"] == 100.0


def test_last_used_at_tracks_use(emu: Emu) -> None:
    _, admin = emu.admin()
    key = create(emu, admin)
    fresh = emu.http.get(f"/api_keys/{key['id']}", headers=admin).json()["data"]
    assert fresh["lastUsedAt"] is None
    emu.clock.advance(5)
    emu.http.get("/api_keys/rate_limits", headers=bearer(key["apiKey"]))
    used = emu.http.get(f"/api_keys/{key['id']}", headers=admin).json()["data"]["lastUsedAt"]
    assert used == "2026-01-15T12:00:05.000Z"
