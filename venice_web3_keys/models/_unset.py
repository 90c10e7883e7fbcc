"""The UNSET marker of an update; loading it loads no pydantic (the facade needs it at once)."""

from __future__ import annotations

import enum
from typing import Literal

__all__ = ["UNSET", "Unset"]


class _UnsetEnum(enum.Enum):
    # pickles name the class where it lived before models/ was split (models/__init__.py keeps
    # it there): UNSET pickled by either version loads in both, as the one singleton
    __module__ = "venice_web3_keys.models"

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET = _UnsetEnum.UNSET
"""Marks an update field the caller did not pass (distinct from None, which means "remove")."""
Unset = Literal[_UnsetEnum.UNSET]
