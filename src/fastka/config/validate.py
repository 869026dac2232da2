"""Semantic checks keepalived does not make: ranges that depend on other keywords,
duplicates, references between blocks, vrrp_strict, families."""

from __future__ import annotations

from .model import Config
from .source import Diagnostics
from .validate_lvs import validate_lvs
from .validate_vrrp import validate_vrrp


def validate(config: Config, diags: Diagnostics, *, check_system: bool = False) -> None:
    validate_vrrp(config, diags, check_system=check_system)
    validate_lvs(config, diags, check_system=check_system)
