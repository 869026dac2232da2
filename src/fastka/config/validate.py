"""Semantic checks keepalived does not make: ranges that depend on other keywords,
duplicates, references between blocks, vrrp_strict, families, script users."""

from __future__ import annotations

import grp
import pwd
from typing import Any, Iterator

from .model import Config
from .schema import Block, specs
from .source import Diagnostics
from .validate_lvs import validate_lvs
from .validate_vrrp import validate_vrrp
from .values import Command, Script


def validate(config: Config, diags: Diagnostics, *, check_system: bool = False) -> None:
    validate_vrrp(config, diags, check_system=check_system)
    validate_lvs(config, diags, check_system=check_system)
    script_security(config, diags)
    if check_system:
        script_users(config, diags)


_SUBS: dict[type, list[tuple[str, bool]]] = {}
_SCRIPTS: dict[type, list[tuple[str, Any]]] = {}


def _blocks(obj: Any) -> Iterator[Block]:
    yield obj
    cls = type(obj)
    subs = _SUBS.get(cls)
    if subs is None:
        subs = _SUBS[cls] = [(f.name, spec.multi) for f, spec in specs(cls) if spec.kind == "sub"]
    for name, multi in subs:
        v = getattr(obj, name)
        for item in (v if multi else [v] if v is not None else []):
            yield from _blocks(item)


def _script_fields(cls: type) -> list[tuple[str, Any]]:
    """(field name, spec) of the fields of a block that name a script to run."""
    out = _SCRIPTS.get(cls)
    if out is None:
        out = _SCRIPTS[cls] = [(f.name, spec) for f, spec in specs(cls)
                               if spec.kind == "value" and isinstance(spec.type, (Script, Command))]
    return out


def _exists(lookup: Any, name: str) -> bool:
    try:
        lookup(name)
    except KeyError:
        return False
    return True


def script_users(config: Config, diags: Diagnostics) -> None:
    """``notify_master /x.sh arg``: keepalived reads `arg` as the user to run /x.sh as,
    and drops the script when no such user exists."""
    for block in _blocks(config):
        for name, spec in _script_fields(type(block)):
            if not isinstance(spec.type, Script):
                continue
            values = getattr(block, name)
            for v in (values if spec.multi else [values]):
                if not v or len(v) < 2:
                    continue
                pos = block.pos_of(name)
                hint = f"if it is an argument of the script, quote the whole command: \"{' '.join(v)}\""
                if not _exists(pwd.getpwnam, v[1]):
                    diags.error(f"{spec.keyword}: user '{v[1]}' does not exist, so keepalived would not run "
                                f"'{v[0]}'", pos, hint=hint)
                elif len(v) > 2 and not _exists(grp.getgrnam, v[2]):
                    diags.error(f"{spec.keyword}: group '{v[2]}' does not exist, so keepalived would not run "
                                f"'{v[0]}'", pos, hint=hint)


def script_security(config: Config, diags: Diagnostics) -> None:
    """keepalived refuses to run scripts as root unless global_defs enable_script_security
    is set ("SECURITY VIOLATION"); say so once, at the first script."""
    gd = config.global_defs
    if gd is not None and gd.enable_script_security:
        return
    for block in _blocks(config):
        for name, spec in _script_fields(type(block)):
            if getattr(block, name):
                diags.warning(f"{spec.keyword}: scripts are configured but global_defs has no "
                              "enable_script_security; keepalived reports a security violation", block.pos_of(name),
                              hint="add enable_script_security (and script_user) to global_defs")
                return
