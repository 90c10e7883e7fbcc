"""The web3 challenge a wallet signs to mint a key."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from venice_web3_keys.errors import InvalidInputError
from venice_web3_keys.models._response import ResponseModel, Timestamp

__all__ = ["Web3Challenge"]


class Web3Challenge(ResponseModel):
    """What GET generate_web3_key returned; `variant` decides what is signed and POSTed back."""

    variant: Literal["jwt", "siwe"]
    token: str | None = None
    message: str | None = None
    nonce: str | None = None
    expires_at: Timestamp = None

    @property
    def signing_text(self) -> str:
        """The exact text to sign with EIP-191 personal_sign."""
        text = self.token if self.variant == "jwt" else self.message
        if text is None:  # pragma: no cover - construction guarantees it
            raise InvalidInputError("challenge has nothing to sign")
        return text

    @model_validator(mode="before")
    @classmethod
    def _detect_variant(cls, data: Any) -> Any:
        if isinstance(data, dict) and "variant" not in data:
            data = dict(data)
            if isinstance(data.get("token"), str):
                data["variant"] = "jwt"
            elif isinstance(data.get("message"), str):
                data["variant"] = "siwe"
        return data

    @model_validator(mode="after")
    def _check_payload(self) -> Web3Challenge:
        if self.variant == "jwt" and not self.token:
            raise ValueError("a jwt challenge needs a token")
        if self.variant == "siwe" and not self.message:
            raise ValueError("a siwe challenge needs a message")
        return self
