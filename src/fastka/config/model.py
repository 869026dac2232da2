"""The whole configuration: the top level of keepalived.conf."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .model_lvs import VirtualServer, VirtualServerGroup, VirtualServerHeader
from .model_vrrp import GlobalDefs, NameHeader, VrrpInstance, VrrpScript, VrrpSyncGroup
from .schema import Block, kw, positions, sub
from .values import Flag, Int, Str


@dataclass
class Config(Block):
    net_namespace: Optional[str] = kw("net_namespace", Str())
    instance: Optional[str] = kw("instance", Str())
    use_pid_dir: bool = kw("use_pid_dir", Flag(), False)
    child_wait_time: Optional[int] = kw("child_wait_time", Int(0))
    global_defs: Optional[GlobalDefs] = sub("global_defs", GlobalDefs)
    vrrp_scripts: list[VrrpScript] = sub("vrrp_script", VrrpScript, header=NameHeader(), multi=True)
    vrrp_sync_groups: list[VrrpSyncGroup] = sub("vrrp_sync_group", VrrpSyncGroup, header=NameHeader(), multi=True)
    vrrp_instances: list[VrrpInstance] = sub("vrrp_instance", VrrpInstance, header=NameHeader(), multi=True)
    virtual_server_groups: list[VirtualServerGroup] = sub("virtual_server_group", VirtualServerGroup,
                                                          header=NameHeader(), multi=True)
    virtual_servers: list[VirtualServer] = sub("virtual_server", VirtualServer, header=VirtualServerHeader(),
                                               multi=True)
    _pos: dict = positions()
