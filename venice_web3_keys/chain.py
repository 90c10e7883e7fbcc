"""Read a wallet's ETH, VVV, sVVV and DIEM balances on Base in ONE JSON-RPC batch.

Raw JSON-RPC over httpx rather than web3: web3 costs over a second to import and three provider
requests per contract call, while a batch answers chain id, balances and decimals in one round trip.
Endpoints are tried in order; URLs are reported by host only since providers embed API keys in them.
`timeout` (VENICE_TIMEOUT) bounds one call across every endpoint tried, each getting a fair share
of what is left, and answers are read up to 8 MiB (bounded_http.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import httpx

from .addresses import checksum_address
from .amounts import from_base_units
from .bounded_http import MAX_BODY_TEXT, request_bounded, tls_context
from .errors import ChainError, ChainUnreachableError, MissingContractError, WrongChainError
from .models import WalletStatus
from .secret import get_logger, redact_url
from .settings import DEFAULT_TIMEOUT

log = get_logger("venice_web3_keys.chain")

BALANCE_OF = "0x70a08231"  # balanceOf(address)
DECIMALS = "0x313ce567"  # decimals()
_MAX_DECIMALS = 77


class _EndpointFailed(Exception):
    """This endpoint did not give a usable answer; try the next one."""


def _word(value: Any, what: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ChainError(f"RPC returned a malformed value for {what}")
    try:
        return int(value, 16) if len(value) > 2 else 0
    except ValueError:
        raise ChainError(f"RPC returned a malformed value for {what}") from None


def require_chain(host: str, actual: int, expected: int, *, refusing: str) -> None:
    """WrongChainError unless the endpoint `host` reports the configured chain id."""
    if actual != expected:
        raise WrongChainError(
            f"RPC endpoint {host} is on chain {actual}, but chain {expected} is configured "
            f"(VENICE_CHAIN_ID); refusing {refusing}",
            expected=expected,
            actual=actual,
        )


class ChainReader:
    """Balances of a wallet on the configured chain, with failover across `rpc_urls`."""

    def __init__(
        self,
        rpc_urls: Sequence[str],
        *,
        chain_id: int,
        staking_contract: str,
        vvv_token: str,
        diem_token: str,
        timeout: float = DEFAULT_TIMEOUT,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        urls = tuple(rpc_urls) if not isinstance(rpc_urls, str) else (rpc_urls,)
        if not urls:
            raise ChainError("no RPC URL configured (BASE_RPC_URL)")
        self._urls = urls
        self._chain_id = int(chain_id)
        self._tokens = {
            "sVVV": checksum_address(staking_contract, field="staking_contract"),
            "VVV": checksum_address(vvv_token, field="vvv_token"),
            "DIEM": checksum_address(diem_token, field="diem_token"),
        }
        self._timeout = timeout
        self._own_client = http_client is None
        self._client = http_client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout), follow_redirects=False, verify=tls_context(urls))
        self._next_id = 0

    def __repr__(self) -> str:
        hosts = ", ".join(redact_url(u) for u in self._urls)
        return f"ChainReader(chain_id={self._chain_id}, rpc=[{hosts}])"

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def __aenter__(self) -> ChainReader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ transport

    async def _post_batch(self, url: str, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """One HTTP request to one endpoint; results in call order, or _EndpointFailed."""
        first = self._next_id
        self._next_id += len(calls)
        body = [
            {"jsonrpc": "2.0", "id": first + i, "method": method, "params": params}
            for i, (method, params) in enumerate(calls)
        ]
        try:
            response = await request_bounded(self._client, "POST", url, json=body,
                                             timeout=self._timeout)
        except httpx.TimeoutException:
            raise _EndpointFailed("timed out") from None
        except httpx.HTTPError as exc:
            raise _EndpointFailed(f"connection failed ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise _EndpointFailed(f"HTTP {response.status_code}")
        if response.too_large:
            raise _EndpointFailed(f"answered with more than {MAX_BODY_TEXT}")
        try:
            payload = json.loads(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _EndpointFailed("answered with something other than JSON") from None
        if not isinstance(payload, list):
            raise _EndpointFailed("did not answer the JSON-RPC batch with a list")
        by_id = {item.get("id"): item for item in payload if isinstance(item, dict)}
        results: list[Any] = []
        for i, (method, _params) in enumerate(calls):
            item = by_id.get(first + i)
            if item is None:
                raise _EndpointFailed("left calls of the batch unanswered")
            if "error" in item:
                error = item["error"]
                text = error.get("message", "") if isinstance(error, dict) else str(error)
                results.append(_RpcError(method, str(text)[:200]))
            else:
                results.append(item.get("result"))
        return results

    async def _batch(self, calls: list[tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
        """Send the batch to each endpoint in turn until one answers; ChainUnreachableError
        listing every host tried (never a full URL) if none does."""
        tried: list[str] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        for position, url in enumerate(self._urls, start=1):
            host = redact_url(url)
            share = (deadline - loop.time()) / (len(self._urls) - position + 1)
            try:
                if share <= 0:
                    raise _EndpointFailed("not tried: VENICE_TIMEOUT was spent")
                try:
                    async with asyncio.timeout(share):
                        return host, await self._post_batch(url, calls)
                except TimeoutError:
                    raise _EndpointFailed(f"timed out after {share:.3g} s") from None
            except _EndpointFailed as exc:
                if position < len(self._urls):
                    log.warning("RPC endpoint %s failed: %s; trying the next one", host, exc)
                tried.append(f"{host} ({exc})")
        raise ChainUnreachableError("no RPC endpoint answered: " + "; ".join(tried))

    def _check_chain(self, host: str, raw: Any) -> int:
        if isinstance(raw, _RpcError):
            raise ChainError(f"{host} refused eth_chainId: {raw.message}")
        actual = _word(raw, "eth_chainId")
        require_chain(host, actual, self._chain_id,
                      refusing="to read balances from the wrong chain")
        return actual

    # ------------------------------------------------------------------ public

    async def chain_id(self) -> int:
        """The endpoint's chain id; WrongChainError if it is not the configured one."""
        host, (raw,) = await self._batch([("eth_chainId", [])])
        return self._check_chain(host, raw)

    async def wallet_status(self, address: str) -> WalletStatus:
        """ETH/VVV/sVVV/DIEM in whole tokens and `eligible` (sVVV > 0), from one batch request.

        A contract call that returns no data means there is no contract at that address (or it is
        not an ERC-20); only then is a second request (eth_getCode) made, to say which.
        """
        wallet = checksum_address(address)
        padded = wallet[2:].lower().rjust(64, "0")
        calls: list[tuple[str, list[Any]]] = [
            ("eth_chainId", []),
            ("eth_getBalance", [wallet, "latest"]),
        ]
        for token in self._tokens.values():
            calls.append(("eth_call", [{"to": token, "data": BALANCE_OF + padded}, "latest"]))
            calls.append(("eth_call", [{"to": token, "data": DECIMALS}, "latest"]))
        host, results = await self._batch(calls)
        chain = self._check_chain(host, results[0])
        if isinstance(results[1], _RpcError):
            raise ChainError(f"{host} refused eth_getBalance: {results[1].message}")
        balances: dict[str, Decimal] = {
            "ETH": from_base_units(_word(results[1], "ETH balance"), 18)}
        missing: list[tuple[str, str]] = []
        for i, (symbol, token) in enumerate(self._tokens.items()):
            bal_raw, dec_raw = results[2 + 2 * i], results[3 + 2 * i]
            if _empty(bal_raw) or _empty(dec_raw):
                missing.append((symbol, token))
                continue
            for raw in (bal_raw, dec_raw):
                if isinstance(raw, _RpcError):
                    raise ChainError(
                        f"{symbol} contract {token} call failed on {host}: {raw.message}"
                    )
            decimals = _word(dec_raw, f"{symbol} decimals")
            if decimals > _MAX_DECIMALS:
                raise ChainError(f"{symbol} contract {token} reports {decimals} decimals")
            balances[symbol] = from_base_units(_word(bal_raw, f"{symbol} balance"), decimals)
        if missing:
            await self._explain_missing(missing)
        ordered = {k: balances[k] for k in ("ETH", "VVV", "sVVV", "DIEM")}
        return WalletStatus(
            address=wallet, chain_id=chain, balances=ordered, eligible=ordered["sVVV"] > 0
        )

    async def _explain_missing(self, missing: list[tuple[str, str]]) -> None:
        host, codes = await self._batch(
            [("eth_getCode", [token, "latest"]) for _symbol, token in missing]
        )
        names = ", ".join(f"{symbol} at {token}" for symbol, token in missing)
        if any(isinstance(c, _RpcError) or _empty(c) for c in codes):
            raise MissingContractError(
                f"no contract code on chain {self._chain_id} ({host}) for {names}: check "
                "VENICE_STAKING_CONTRACT / VENICE_VVV_TOKEN / VENICE_DIEM_TOKEN and the RPC URL"
            )
        raise MissingContractError(
            f"{names} on {host} has code but does not answer balanceOf/decimals like an ERC-20"
        )


class _RpcError:
    """A per-call JSON-RPC error inside an otherwise good batch answer."""

    __slots__ = ("message", "method")

    def __init__(self, method: str, message: str) -> None:
        self.method = method
        self.message = message


def _empty(raw: Any) -> bool:
    return isinstance(raw, str) and raw in ("0x", "0x0", "")
