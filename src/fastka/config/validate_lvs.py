"""Semantic checks of the LVS part of the model."""

from __future__ import annotations

from typing import Any

from .source import Diagnostics


def validate_lvs(config: Any, diags: Diagnostics, *, check_system: bool = False) -> None:
    pass
