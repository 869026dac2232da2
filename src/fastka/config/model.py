"""The whole configuration: the top level of keepalived.conf."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .model_global import (
    NAMESPACE_NOTE,
    GlobalDefs,
    LinkbeatInterface,
    LinkbeatLine,
    TrackGroup,
    UpDownDelay,
    UpDownDelayLine,
)
from .model_lvs import SslConfig, VirtualServer, VirtualServerGroup, VirtualServerHeader
from .model_vrrp import (
    Bare,
    BfdInstance,
    GarpGroup,
    NameHeader,
    OptWords,
    Route,
    RouteLine,
    Rule,
    RuleLine,
    TrackFile,
    VirtualIP,
    VirtualIPLine,
    VrrpInstance,
    VrrpScript,
    VrrpSyncGroup,
    VrrpTrackProcess,
)
from .schema import Block, Support, kw, lines, positions, sub
from .values import Int, Str

UINT32 = 2**32 - 1


@dataclass
class Config(Block):
    # GLOBAL CONFIGURATION: daemon facilities, then global_defs and its sibling blocks
    net_namespace: Optional[str] = kw("net_namespace", Str(), support=Support.PARSED, note=NAMESPACE_NOTE)
    net_namespace_ipvs: Optional[tuple[str, ...]] = kw("net_namespace_ipvs", OptWords(1, "[NAME]"),
                                                       support=Support.PARSED, note=NAMESPACE_NOTE)
    namespace_with_ipsets: bool = kw("namespace_with_ipsets", Bare(), False, support=Support.PARSED,
                                     note=NAMESPACE_NOTE)
    instance: Optional[str] = kw("instance", Str())
    use_pid_dir: bool = kw("use_pid_dir", Bare(), False)
    linkbeat_use_polling: bool = kw("linkbeat_use_polling", Bare(), False)
    child_wait_time: Optional[int] = kw("child_wait_time", Int(0, UINT32))
    global_defs: Optional[GlobalDefs] = sub("global_defs", GlobalDefs)
    linkbeat_interfaces: list[LinkbeatInterface] = lines("linkbeat_interfaces", LinkbeatLine())
    interface_up_down_delays: list[UpDownDelay] = lines("interface_up_down_delays", UpDownDelayLine())
    track_groups: list[TrackGroup] = sub("track_group", TrackGroup, header=NameHeader(), multi=True)
    static_ipaddress: list[VirtualIP] = lines("static_ipaddress", VirtualIPLine())
    static_routes: list[Route] = lines("static_routes", RouteLine())
    static_rules: list[Rule] = lines("static_rules", RuleLine())
    track_files: list[TrackFile] = sub("track_file", TrackFile, header=NameHeader(), multi=True,
                                       aliases=("vrrp_track_file",))
    vrrp_track_processes: list[VrrpTrackProcess] = sub("vrrp_track_process", VrrpTrackProcess, header=NameHeader(),
                                                       multi=True)
    # BFD CONFIGURATION
    bfd_instances: list[BfdInstance] = sub("bfd_instance", BfdInstance, header=NameHeader(), multi=True,
                                           support=Support.PARSED, note="BFD is not implemented")
    # VRRPD CONFIGURATION
    vrrp_scripts: list[VrrpScript] = sub("vrrp_script", VrrpScript, header=NameHeader(), multi=True)
    vrrp_sync_groups: list[VrrpSyncGroup] = sub("vrrp_sync_group", VrrpSyncGroup, header=NameHeader(), multi=True)
    garp_groups: list[GarpGroup] = sub("garp_group", GarpGroup, multi=True)
    vrrp_instances: list[VrrpInstance] = sub("vrrp_instance", VrrpInstance, header=NameHeader(), multi=True)
    # LVS CONFIGURATION
    ssl: Optional[SslConfig] = sub("SSL", SslConfig)
    virtual_server_groups: list[VirtualServerGroup] = sub("virtual_server_group", VirtualServerGroup,
                                                          header=NameHeader(), multi=True)
    virtual_servers: list[VirtualServer] = sub("virtual_server", VirtualServer, header=VirtualServerHeader(),
                                               multi=True)
    _pos: dict = positions()
