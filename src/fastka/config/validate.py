"""Semantic checks keepalived does not make: ranges that depend on other keywords,
duplicates, references between blocks, vrrp_strict, families, script users."""

from __future__ import annotations

import grp
import pwd
from typing import Any

from .model import Config
from .schema import Block, specs
from .source import Diagnostics
from .validate_lvs import validate_lvs
from .validate_vrrp import validate_vrrp
from .values import Command, Script


def validate(config: Config, diags: Diagnostics, *, check_system: bool = False) -> None:
    validate_vrrp(config, diags, check_system=check_system)
    validate_lvs(config, diags, check_system=check_system)
    scripts = _scripts(config)
    script_security(config, diags, scripts)
    if check_system:
        script_users(config, diags, scripts)


_SUBS: dict[type, list[tuple[str, bool]]] = {}
_SCRIPTS: dict[type, list[tuple[str, Any]]] = {}
_HOLDS_SCRIPTS: dict[type, bool] = {}


def _subs(cls: type) -> list[tuple[str, bool]]:
    """(field name, multi) of a block class's sub-blocks."""
    subs = _SUBS.get(cls)
    if subs is None:
        subs = _SUBS[cls] = [(f.name, spec.multi) for f, spec in specs(cls) if spec.kind == "sub"]
    return subs


def _script_fields(cls: type) -> list[tuple[str, Any]]:
    """(field name, spec) of the fields of a block that name a script to run."""
    out = _SCRIPTS.get(cls)
    if out is None:
        out = _SCRIPTS[cls] = [(f.name, spec) for f, spec in specs(cls)
                               if spec.kind == "value" and isinstance(spec.type, (Script, Command))]
    return out


def _holds_scripts(cls: type) -> bool:
    """Whether a block of this class, or a block anywhere under it, can name a script."""
    held = _HOLDS_SCRIPTS.get(cls)
    if held is None:
        _HOLDS_SCRIPTS[cls] = False  # a class that (indirectly) contains itself
        held = bool(_script_fields(cls))
        for _, spec in specs(cls):
            if spec.kind == "sub":
                kinds = spec.block.values() if isinstance(spec.block, dict) else [spec.block]
                held = any([_holds_scripts(k) for k in kinds]) or held
        _HOLDS_SCRIPTS[cls] = held
    return held


def _scripts(config: Config) -> list[tuple[Block, str, Any, Any]]:
    """(block, field name, spec, value) of every script the configuration names, in
    file order. Walks only the blocks that can hold one: a table of 40,000 real servers
    without scripts costs one look at two fields each."""
    out = []
    stack: list[Any] = [config]
    while stack:
        block = stack.pop()
        cls = type(block)
        for name, spec in _script_fields(cls):
            value = getattr(block, name)
            if value:
                out.append((block, name, spec, value))
        kids = []
        for name, multi in _subs(cls):
            v = getattr(block, name)
            if v is None:
                continue
            for item in (v if multi else (v,)):
                if _holds_scripts(type(item)):
                    kids.append(item)
        stack.extend(reversed(kids))
    return out


def _exists(lookup: Any, name: str) -> bool:
    try:
        lookup(name)
    except KeyError:
        return False
    return True


def script_users(config: Config, diags: Diagnostics, scripts: list[tuple[Block, str, Any, Any]]) -> None:
    """``notify_master /x.sh arg``: keepalived reads `arg` as the user to run /x.sh as,
    and drops the script when no such user exists."""
    for block, name, spec, values in scripts:
        if not isinstance(spec.type, Script):
            continue
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


def script_security(config: Config, diags: Diagnostics, scripts: list[tuple[Block, str, Any, Any]]) -> None:
    """keepalived refuses to run scripts as root unless global_defs enable_script_security
    is set ("SECURITY VIOLATION"); say so once, at the first script."""
    gd = config.global_defs
    if (gd is not None and gd.enable_script_security) or not scripts:
        return
    block, name, spec, _ = scripts[0]
    diags.warning(f"{spec.keyword}: scripts are configured but global_defs has no "
                  "enable_script_security; keepalived reports a security violation", block.pos_of(name),
                  hint="add enable_script_security (and script_user) to global_defs")
