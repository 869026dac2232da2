"""VRRP: the per-instance protocol state machine (RFC 9568 / RFC 3768, keepalived's
extensions). Instances, sync groups, tracking and address work build on it."""

from __future__ import annotations

from .state_machine import (
    Action,
    ArmAdvertTimer,
    ArmMasterDown,
    BecomeBackup,
    BecomeMaster,
    CancelTimers,
    EnterFault,
    EnterInitialize,
    FastPathView,
    Params,
    PriorityChanged,
    RxLowerPriority,
    SendAdvert,
    SendShutdownAdvert,
    State,
    Transition,
    Verdict,
    VrrpStateMachine,
    classify_advert,
    master_down_interval,
    skew_time,
)

__all__ = [
    "Action",
    "ArmAdvertTimer",
    "ArmMasterDown",
    "BecomeBackup",
    "BecomeMaster",
    "CancelTimers",
    "EnterFault",
    "EnterInitialize",
    "FastPathView",
    "Params",
    "PriorityChanged",
    "RxLowerPriority",
    "SendAdvert",
    "SendShutdownAdvert",
    "State",
    "Transition",
    "Verdict",
    "VrrpStateMachine",
    "classify_advert",
    "master_down_interval",
    "skew_time",
]
