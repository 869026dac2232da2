"""Semantic checks of the VRRP part of the model."""

from __future__ import annotations

from typing import Any

from .source import Diagnostics


def validate_vrrp(config: Any, diags: Diagnostics, *, check_system: bool = False) -> None:
    pass
