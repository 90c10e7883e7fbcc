"""The pending SIWE (EIP-4361) mint challenge: building the text and checking a returned one.

Exactly as Venice words it: domain `api.venice.ai` and URI
`https://api.venice.ai/api/v1/api_keys/generate_web3_key` wherever the emulator is served (real
Venice names itself whatever host the request came through, and refuses any other domain), so a
client that only accepts its configured host fails here as it would against a faithful proxy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STATEMENT = (
    "Authorize Venice API key creation. Only sign this on venice.ai — anyone holding this "
    "signature can create an API key on your Venice account."
)
RESOURCE = "urn:venice:api-key:create"
DOMAIN = "api.venice.ai"
URI = "https://api.venice.ai/api/v1/api_keys/generate_web3_key"
LIFETIME_SECONDS = 15 * 60

EXPIRED = "The challenge has expired"
USED = "This challenge has already been used"
WRONG_ADDRESS = "This challenge was issued for a different wallet address"
NOT_A_CHALLENGE = "This message is not a valid Venice API key authorization challenge"
STATEMENT_MODIFIED = "The challenge statement was modified"
WRONG_DOMAIN = f'The challenge domain must be "{DOMAIN}"'


class SiweError(Exception):
    """Carries one of the documented SIWE challenge error texts."""


@dataclass(frozen=True)
class SiweMessage:
    domain: str
    address: str
    statement: str
    uri: str
    version: str
    chain_id: int
    nonce: str
    issued_at: str
    expiration_time: str
    resources: tuple[str, ...]


def build(
    *, address: str, chain_id: int, nonce: str, issued_at: str, expiration_time: str,
) -> str:
    """The exact text the wallet signs (EIP-191 personal_sign over its UTF-8 bytes)."""
    return (
        f"{DOMAIN} wants you to sign in with your Ethereum account:\n"
        f"{address}\n"
        "\n"
        f"{STATEMENT}\n"
        "\n"
        f"URI: {URI}\n"
        "Version: 1\n"
        f"Chain ID: {chain_id}\n"
        f"Nonce: {nonce}\n"
        f"Issued At: {issued_at}\n"
        f"Expiration Time: {expiration_time}\n"
        "Resources:\n"
        f"- {RESOURCE}"
    )


_MESSAGE = re.compile(
    r"\A(?P<domain>[^\s]+) wants you to sign in with your Ethereum account:\n"
    r"(?P<address>0x[0-9a-fA-F]{40})\n"
    r"\n"
    r"(?P<statement>[^\n]*)\n"
    r"\n"
    r"URI: (?P<uri>[^\n]+)\n"
    r"Version: (?P<version>[^\n]+)\n"
    r"Chain ID: (?P<chain_id>[0-9]+)\n"
    r"Nonce: (?P<nonce>[0-9A-Za-z]+)\n"
    r"Issued At: (?P<issued_at>[^\n]+)\n"
    r"Expiration Time: (?P<expiration_time>[^\n]+)\n"
    r"Resources:(?P<resources>(?:\n- [^\n]+)+)\Z"
)


def parse(text: str) -> SiweMessage:
    """Parse the challenge layout this endpoint issues; anything else is not a challenge."""
    match = _MESSAGE.match(text) if isinstance(text, str) else None
    if match is None:
        raise SiweError(NOT_A_CHALLENGE)
    g = match.groupdict()
    return SiweMessage(
        domain=g["domain"],
        address=g["address"],
        statement=g["statement"],
        uri=g["uri"],
        version=g["version"],
        chain_id=int(g["chain_id"]),
        nonce=g["nonce"],
        issued_at=g["issued_at"],
        expiration_time=g["expiration_time"],
        resources=tuple(line[2:] for line in g["resources"].strip("\n").split("\n")),
    )
