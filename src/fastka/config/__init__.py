"""keepalived.conf front end: lex -> tree -> typed model -> semantic checks -> dump.

    result = load_file("/etc/keepalived/keepalived.conf", config_id="lb1")
    if result.diagnostics.has_errors: ...
    result.config.vrrp_instances[0].priority
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from .dump import dump
from .loader import Loader
from .model import Config
from .source import ConfigError, Diagnostic, Diagnostics, Pos
from .tree import build_tree

__all__ = ["Config", "ConfigError", "Diagnostic", "Diagnostics", "LoadResult", "Pos", "dump", "load_file",
           "load_text"]


@dataclass
class LoadResult:
    config: Config
    diagnostics: Diagnostics

    @property
    def ok(self) -> bool:
        return not self.diagnostics.has_errors

    def raise_for_errors(self) -> Config:
        if self.diagnostics.has_errors:
            raise ConfigError(self.diagnostics)
        return self.config


def _finish(lines: list, diags: Diagnostics, pos: Pos, check_system: bool) -> LoadResult:
    from . import model_lvs, model_vrrp
    from .validate import validate

    nodes = build_tree(lines, diags)
    config = Loader(diags, Config).load(nodes, pos)
    model_vrrp.apply_defaults(config)
    model_lvs.drop_ignored(config, diags)
    model_lvs.apply_defaults(config)
    validate(config, diags, check_system=check_system)
    return LoadResult(config, diags)


def load_file(path: "str | os.PathLike[str]", *, config_id: Optional[str] = None,
              check_system: bool = True, all_config: bool = False) -> LoadResult:
    """Read and check a configuration file (and what it includes).

    ``check_system`` adds the checks that look at this host (interfaces exist);
    ``all_config`` (keepalived's -e) makes every missing or unreadable include an error.
    """
    from ..gcpause import gc_paused
    from .lexer import lex_file

    diags = Diagnostics()
    with gc_paused():  # ~1M small acyclic objects: the collector's passes would double the time
        lines = lex_file(path, diags, config_id=config_id, all_config=all_config)
        return _finish(lines, diags, Pos(os.fspath(path), 1, 1), check_system)


def load_text(text: str, *, filename: str = "<string>", config_id: Optional[str] = None,
              base_dir: Optional[str] = None, check_system: bool = False) -> LoadResult:
    from ..gcpause import gc_paused
    from .lexer import lex_text

    diags = Diagnostics()
    with gc_paused():
        lines = lex_text(text, diags, filename=filename, config_id=config_id, base_dir=base_dir)
        return _finish(lines, diags, Pos(filename, 1, 1), check_system)
