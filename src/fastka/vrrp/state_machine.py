"""The VRRP state machine of one instance: RFC 9568 (VRRPv3) and RFC 3768 (VRRPv2),
with keepalived 2.2.7's Fault state, preempt_delay and the other keepalived knobs.

Pure and clock-injected. Every input is a method that takes ``now`` and returns a list
of actions for the engine to carry out; the class never reads a clock, never sleeps,
never touches a socket or an address. The engine owns sockets, timers and VIPs.

Time
----
All times are integer **microseconds** on the caller's monotonic clock: ``now``,
every deadline and every interval. Intervals from the wire and the configuration are
centiseconds (``*_cs``, VRRPv3's unit; a VRRPv2 advert interval of N seconds is
N * 100 cs, as ``fastka.wire.Advert.advert_int_cs`` reports it). The timer wheel
(``fastka.timers``) takes nanoseconds: the engine multiplies by 1000, exactly.
Integer microseconds make every derived time exact or floored the way keepalived
floors it: Skew_Time = (256 - priority) * Master_Adver_Interval / 256 is computed as
``(256 - p) * interval_cs * 10_000 // 256``, the same value as keepalived's
``(256 - p) * interval_cs * 625 / 16`` microseconds.

- VRRPv3: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256
- VRRPv2: Skew_Time = (256 - Priority) / 256 seconds
- Master_Down_Interval = down_timer_adverts (3, RFC) * Master_Adver_Interval + Skew_Time

A VRRPv3 backup learns Master_Adver_Interval from the adverts it accepts; VRRPv2 uses
its own Advertisement_Interval (RFC 3768 makes a mismatched interval a receive error,
which the receive path checks with the other section 7.1 checks).

Inputs
------
``start``, ``advert_received``, ``master_down_expired``, ``advert_timer_expired``,
``set_priority``, ``interface_down`` / ``interface_up``, ``track_down`` / ``track_up``,
``shutdown``. Timer expiries that no longer apply (the state moved on) are ignored.

Outputs
-------
A list of the action objects defined below, in the order to carry them out. A state
change always starts with a :class:`Transition` record (from, to, reason in words,
time), then :class:`CancelTimers` (always when it leaves BACKUP or MASTER). The advert
timer is periodic and drift-free: :class:`ArmAdvertTimer` gives the first deadline and
the interval, and the engine re-arms from each expired deadline
(``TimerWheel.arm_periodic``), sending the prebuilt advert each time without calling
the state machine (``advert_timer_expired`` exists for engines that do call it; it only
returns the send).

The fast path
-------------
In steady state the native loop handles received adverts without Python:
:func:`classify_advert` is the exact, pure predicate it mirrors, over the
:class:`FastPathView` that :meth:`VrrpStateMachine.fast_path_view` exports. The
engine refreshes its copy of the view after every call into the state machine.
``REARM`` means ``advert_received`` would return exactly
``[ArmMasterDown(now + view.master_down_interval)]`` and change nothing else;
``IGNORE`` means it would return ``[]`` and change nothing; ``CALL`` means call it.
Native code may therefore treat REARM and IGNORE itself; CALL must reach Python.

keepalived 2.2.7 and ``state MASTER``
-------------------------------------
Measured with Debian's keepalived 2.2.7 in network namespaces (VRRPv2, advert_int 1),
and read in keepalived's vrrp_scheduler.c (``vrrp_init_state``, ``try_up_instance``)
and vrrp.c (``vrrp_state_backup``):

- ``state MASTER`` with priority 255 goes master at once (8 ms after start);
  ``state BACKUP`` with priority 255 waits in BACKUP for 3 * advert_int + skew
  (3.004 s) before it goes master.
- ``state MASTER`` with priority < 255 starts in BACKUP and waits exactly as
  ``state BACKUP`` does (3.61 s at priority 100): no shortened first timeout
  (earlier keepalived sources shortened this first timeout to advert_int + a minimal
  skew; 2.2.7 does not).
- ``state MASTER`` clears ``nopreempt`` and ``preempt_delay``, logging
  "Warning - nopreempt will not work with initial state MASTER - clearing" and
  "Warning - preempt delay will not work with initial state MASTER - clearing".

fastka follows this, except that an address owner (priority 255) goes master at
startup whatever ``state`` says, as RFC 9568 section 6.4.1 requires. ``notes`` lists
the options the initial state cleared.

Other keepalived behaviour followed here
----------------------------------------
- preempt_delay (vrrp.c ``vrrp_state_backup``, and measured): a preempting backup
  that sees an advert of lower priority while no delay is running starts one
  (now + preempt_delay); until it ends such adverts are accepted like a master's
  (the Master_Down timer is re-armed), afterwards they are discarded and the backup
  takes over when its Master_Down timer expires, preempt_delay + Master_Down_Interval
  after the first lower advert at the latest. An advert of equal or higher priority
  stops the delay; entering BACKUP (from MASTER, FAULT or startup) clears it.
- A master receiving a lower-priority advert (or an equal one from a lower address)
  sends an advert at once (RFC 9568 6.4.3; keepalived does this for VRRPv2 as well,
  where RFC 3768 discards) unless ``lower_prio_no_advert``; it never resets its advert
  timer for it. ``higher_prio_send_advert`` sends one advert before yielding.
- Effective priority from tracking is clamped to 1..254; an address owner's priority
  never changes. A backup's new Skew_Time applies from the next Master_Down arming
  (keepalived instead shifts the running timer by the difference).
- Fault (interface down or a tracked failure): a master sends a priority 0 advert
  and releases its VIPs; adverts are ignored while in Fault. Recovery enters BACKUP
  with Master_Down = Master_Down_Interval from its own advert interval, or, for an
  address owner, advert interval + Skew_Time (keepalived ``try_up_instance``).
- Two address owners: RFC tie-break (the lower address yields). keepalived instead
  lowers its own priority to 254 and logs a configuration error.
- An advert of our own priority from our own address (our advert looped back, or a
  twin) is ignored by a master; keepalived logs a warning for it.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass
from typing import Optional, Union

US_PER_CS = 10_000
US_PER_S = 1_000_000
PRIO_STOP = 0
PRIO_OWNER = 255
MAX_PREEMPT_DELAY_US = 1000 * US_PER_S


class State(enum.IntEnum):
    """Instance states; the integer values are what native code mirrors."""

    INITIALIZE = 0
    BACKUP = 1
    MASTER = 2
    FAULT = 3

    def __str__(self) -> str:
        return self.name


# -- actions -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendAdvert:
    """Send one advertisement now carrying ``priority``."""

    priority: int


@dataclass(frozen=True, slots=True)
class SendShutdownAdvert:
    """Send one advertisement now with priority 0 (this router stops being master)."""


@dataclass(frozen=True, slots=True)
class ArmAdvertTimer:
    """(Re)arm the periodic advert timer: first expiry at ``first_deadline``, then every
    ``interval`` after each expired deadline; each expiry sends the current advert."""

    first_deadline: int
    interval: int


@dataclass(frozen=True, slots=True)
class ArmMasterDown:
    """(Re)arm the one-shot Master_Down timer at ``deadline``."""

    deadline: int


@dataclass(frozen=True, slots=True)
class CancelTimers:
    """Disarm both the advert timer and the Master_Down timer."""


@dataclass(frozen=True, slots=True)
class BecomeMaster:
    """Take the virtual addresses: add VIPs (routes, rules), send gratuitous ARP /
    unsolicited NA, run the master notifications."""


@dataclass(frozen=True, slots=True)
class BecomeBackup:
    """Make sure the VIPs are absent (remove them if held), run the backup notifications."""


@dataclass(frozen=True, slots=True)
class EnterFault:
    """Make sure the VIPs are absent, run the fault notifications."""


@dataclass(frozen=True, slots=True)
class EnterInitialize:
    """The instance stopped (shutdown): make sure the VIPs are absent, run the stop
    notifications."""


@dataclass(frozen=True, slots=True)
class PriorityChanged:
    """The effective priority changed: adverts sent from now on carry ``priority``
    (rebuild or patch the prebuilt advert)."""

    priority: int


@dataclass(frozen=True, slots=True)
class RxLowerPriority:
    """A master received an advert that loses to it (lower priority, or equal priority
    from a lower address): keepalived's garp_lower_prio_* and notify_master_rx_lower_pri."""

    priority: int
    src_addr: int


@dataclass(frozen=True, slots=True)
class Transition:
    """The state changed at ``at`` from ``from_state`` to ``to_state``; ``reason`` is for
    the operator ("higher priority 150 from 10.0.0.2")."""

    from_state: State
    to_state: State
    reason: str
    at: int


Action = Union[
    SendAdvert,
    SendShutdownAdvert,
    ArmAdvertTimer,
    ArmMasterDown,
    CancelTimers,
    BecomeMaster,
    BecomeBackup,
    EnterFault,
    EnterInitialize,
    PriorityChanged,
    RxLowerPriority,
    Transition,
]


# -- timing ----------------------------------------------------------------------------


def skew_time(version: int, priority: int, master_adver_int_cs: int) -> int:
    """Skew_Time in microseconds: RFC 9568 for version 3, RFC 3768 for version 2."""
    if version == 3:
        return (256 - priority) * master_adver_int_cs * US_PER_CS // 256
    return (256 - priority) * US_PER_S // 256


def master_down_interval(version: int, priority: int, master_adver_int_cs: int, down_timer_adverts: int = 3) -> int:
    """Master_Down_Interval in microseconds: down_timer_adverts (3 in the RFCs) times
    Master_Adver_Interval plus Skew_Time."""
    return down_timer_adverts * master_adver_int_cs * US_PER_CS + skew_time(version, priority, master_adver_int_cs)


# -- parameters ----------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """What the state machine needs from a vrrp_instance."""

    priority: int
    """Configured priority, 1..255; 255 is the address owner."""
    address: int
    """This router's primary address as an unsigned integer (IPv4: the interface's
    primary address; IPv6: its link-local address), compared with advert sources."""
    family: int = 4
    """4 or 6: the family of ``address`` and of every advert source."""
    version: int = 2
    """VRRP version, 2 (IPv4 only) or 3."""
    advert_int_cs: int = 100
    """Advertisement_Interval in centiseconds (version 2: whole seconds, 100..25500)."""
    initial_state: str = "BACKUP"
    """keepalived's ``state``: "BACKUP" or "MASTER" (see the module notes)."""
    preempt: bool = True
    """False for keepalived's ``nopreempt``."""
    preempt_delay_us: int = 0
    """keepalived's ``preempt_delay`` in microseconds, 0..1000 s."""
    down_timer_adverts: int = 3
    """keepalived's ``down_timer_adverts``, 1..100 (3 is the RFCs' value)."""
    lower_prio_no_advert: bool = False
    """keepalived's ``lower_prio_no_advert``: a master does not answer a lower advert."""
    higher_prio_send_advert: bool = False
    """keepalived's ``higher_prio_send_advert``: a master sends an advert before yielding."""

    def __post_init__(self) -> None:
        if self.family not in (4, 6):
            raise ValueError(f"family must be 4 or 6, not {self.family!r}")
        if self.version not in (2, 3):
            raise ValueError(f"version must be 2 or 3, not {self.version!r}")
        if self.version == 2 and self.family == 6:
            raise ValueError("VRRPv2 is IPv4 only")
        if not 1 <= self.priority <= PRIO_OWNER:
            raise ValueError(f"priority must be 1..255, not {self.priority!r}")
        if not 0 <= self.address < 1 << (32 if self.family == 4 else 128):
            raise ValueError(f"address {self.address!r} is not an IPv{self.family} address as an integer")
        if self.version == 2:
            if not 100 <= self.advert_int_cs <= 25500 or self.advert_int_cs % 100:
                raise ValueError(f"VRRPv2 advert_int_cs must be whole seconds 1..255 (100..25500), "
                                 f"not {self.advert_int_cs!r}")
        elif not 1 <= self.advert_int_cs <= 4095:
            raise ValueError(f"VRRPv3 advert_int_cs must be 1..4095, not {self.advert_int_cs!r}")
        if self.initial_state not in ("BACKUP", "MASTER"):
            raise ValueError(f"initial_state must be 'BACKUP' or 'MASTER', not {self.initial_state!r}")
        if not 0 <= self.preempt_delay_us <= MAX_PREEMPT_DELAY_US:
            raise ValueError(f"preempt_delay_us must be 0..{MAX_PREEMPT_DELAY_US}, not {self.preempt_delay_us!r}")
        if not 1 <= self.down_timer_adverts <= 100:
            raise ValueError(f"down_timer_adverts must be 1..100, not {self.down_timer_adverts!r}")


# -- the fast-path predicate -----------------------------------------------------------


class Verdict(enum.IntEnum):
    """What the native receive path may do with a received, validated advert."""

    CALL = 0
    """Call ``advert_received``: it changes state, sends, or arms something else."""
    REARM = 1
    """Re-arm Master_Down at ``now + view.master_down_interval``; nothing else."""
    IGNORE = 2
    """Drop it: the state machine would do nothing."""


@dataclass(frozen=True, slots=True)
class FastPathView:
    """The part of the state machine's state that decides received adverts, as plain
    integers for native code to copy. ``preempt_until`` is -1 when no preempt_delay
    is running; ``preempt_delay`` is 0 when it cannot apply (no delay, or nopreempt)."""

    state: State
    version: int
    priority: int
    address: int
    preempt: bool
    preempt_delay: int
    preempt_until: int
    master_adver_int_cs: int
    master_down_interval: int


def classify_advert(view: FastPathView, now: int, priority: int, src_addr: int, advert_int_cs: int) -> Verdict:
    """The fast-path predicate: exactly what ``advert_received(now, priority, src_addr,
    advert_int_cs)`` would do, for a state machine whose ``fast_path_view()`` is ``view``.

    BACKUP:
      priority 0                                 -> CALL (Master_Down := Skew_Time)
      preempting and priority < ours:
        no preempt_delay                         -> IGNORE (discarded)
        preempt_delay, none running              -> CALL (starts it)
        preempt_delay running, now >= its end    -> IGNORE (discarded)
        preempt_delay running, now < its end     -> accepted, as below
      otherwise accepted (nopreempt, or priority >= ours):
        priority >= ours while a preempt_delay runs -> CALL (stops it)
      accepted: version 3 and advert_int_cs != the learned interval -> CALL (learns it)
      accepted                                   -> REARM
    MASTER: our own priority from our own address -> IGNORE, anything else -> CALL
    INITIALIZE, FAULT                            -> IGNORE
    """
    state = view.state
    if state == State.BACKUP:
        if priority == PRIO_STOP:
            return Verdict.CALL
        if view.preempt and priority < view.priority:
            if view.preempt_delay == 0:
                return Verdict.IGNORE
            if view.preempt_until < 0:
                return Verdict.CALL
            if now >= view.preempt_until:
                return Verdict.IGNORE
        elif view.preempt_delay and view.preempt_until >= 0:
            return Verdict.CALL
        if view.version == 3 and advert_int_cs != view.master_adver_int_cs:
            return Verdict.CALL
        return Verdict.REARM
    if state == State.MASTER:
        if priority == view.priority and src_addr == view.address:
            return Verdict.IGNORE
        return Verdict.CALL
    return Verdict.IGNORE


# -- the state machine -----------------------------------------------------------------


class VrrpStateMachine:
    """One VRRP instance's protocol state; see the module documentation."""

    __slots__ = ("_p", "_state", "_priority", "_owner", "_preempt", "_preempt_delay", "_preempt_until",
                 "_master_adver_int_cs", "_faults", "_notes")

    def __init__(self, params: Params) -> None:
        self._p = params
        self._state = State.INITIALIZE
        self._priority = params.priority
        self._owner = params.priority == PRIO_OWNER
        notes = []
        preempt, delay = params.preempt, params.preempt_delay_us
        if params.initial_state == "MASTER":
            # keepalived 2.2.7 (vrrp.c, measured): state MASTER clears nopreempt and preempt_delay
            if not preempt:
                notes.append("nopreempt ignored: it does not work with initial state MASTER (as keepalived)")
            if delay:
                notes.append("preempt_delay ignored: it does not work with initial state MASTER (as keepalived)")
            preempt, delay = True, 0
        self._preempt = preempt
        self._preempt_delay = delay if preempt else 0
        self._preempt_until: Optional[int] = None
        self._master_adver_int_cs = params.advert_int_cs
        self._faults: dict[tuple[str, str], str] = {}
        self._notes = tuple(notes)

    # -- what the engine and the operator may read ----------------------------------------

    @property
    def params(self) -> Params:
        return self._p

    @property
    def state(self) -> State:
        return self._state

    @property
    def priority(self) -> int:
        """The effective priority (configured, changed by tracking)."""
        return self._priority

    @property
    def preempt(self) -> bool:
        return self._preempt

    @property
    def preempt_delay(self) -> int:
        """The preempt delay in microseconds that applies (0 when nopreempt or state MASTER)."""
        return self._preempt_delay

    @property
    def preempt_until(self) -> Optional[int]:
        """When the running preempt delay ends, None when none runs."""
        return self._preempt_until

    @property
    def master_adver_int_cs(self) -> int:
        """Master_Adver_Interval in centiseconds (learned from the master in version 3)."""
        return self._master_adver_int_cs

    @property
    def skew_time(self) -> int:
        """Skew_Time in microseconds for the current priority and Master_Adver_Interval."""
        return skew_time(self._p.version, self._priority, self._master_adver_int_cs)

    @property
    def master_down_interval(self) -> int:
        """Master_Down_Interval in microseconds."""
        return master_down_interval(self._p.version, self._priority, self._master_adver_int_cs,
                                    self._p.down_timer_adverts)

    @property
    def advert_interval(self) -> int:
        """Advertisement_Interval (this router's, used as master) in microseconds."""
        return self._p.advert_int_cs * US_PER_CS

    @property
    def has_own_fault(self) -> bool:
        """A fault of its own (interface, tracked object), not one its sync group passed on."""
        return any(kind != "sync" for kind, _ in self._faults)

    @property
    def faults(self) -> tuple[str, ...]:
        """What keeps (or will keep) the instance in Fault, in words."""
        return tuple(self._faults.values())

    @property
    def notes(self) -> tuple[str, ...]:
        """Configuration the state machine overrode, in words (for the log)."""
        return self._notes

    def fast_path_view(self) -> FastPathView:
        """The state :func:`classify_advert` decides on; refresh after every call."""
        return FastPathView(
            state=self._state,
            version=self._p.version,
            priority=self._priority,
            address=self._p.address,
            preempt=self._preempt,
            preempt_delay=self._preempt_delay,
            preempt_until=-1 if self._preempt_until is None else self._preempt_until,
            master_adver_int_cs=self._master_adver_int_cs,
            master_down_interval=self.master_down_interval,
        )

    # -- inputs ----------------------------------------------------------------------------

    def start(self, now: int) -> list[Action]:
        """Startup event (RFC 9568 6.4.1): Initialize -> Master (address owner), Backup,
        or Fault when a fault is already known. Ignored unless in Initialize."""
        if self._state != State.INITIALIZE:
            return []
        self._master_adver_int_cs = self._p.advert_int_cs
        self._preempt_until = None
        if self._faults:
            return self._enter_fault(now, "startup with " + ", ".join(self._faults.values()))
        if self._owner:
            return self._enter_master(now, "startup as address owner (priority 255)")
        return self._enter_backup(now, "startup", now + self.master_down_interval)

    def advert_received(self, now: int, priority: int, src_addr: int, advert_int_cs: int) -> list[Action]:
        """A valid advertisement for this instance arrived from ``src_addr`` (an unsigned
        integer of this instance's family) with ``priority`` and ``advert_int_cs``."""
        if not 0 <= priority <= PRIO_OWNER:
            raise ValueError(f"priority must be 0..255, not {priority!r}")
        if advert_int_cs < 1:
            raise ValueError(f"advert_int_cs must be positive, not {advert_int_cs!r}")
        if self._state == State.BACKUP:
            return self._backup_rx(now, priority, advert_int_cs)
        if self._state == State.MASTER:
            return self._master_rx(now, priority, src_addr, advert_int_cs)
        return []

    def master_down_expired(self, now: int) -> list[Action]:
        """The Master_Down timer fired (RFC 9568 6.4.2): Backup -> Master."""
        if self._state != State.BACKUP:
            return []
        return self._enter_master(now, "no advertisement accepted from a master before the Master_Down timer expired")

    def advert_timer_expired(self, now: int) -> list[Action]:
        """The advert timer fired (RFC 9568 6.4.3): send an advert; the periodic timer
        re-arms itself from its deadline."""
        if self._state != State.MASTER:
            return []
        return [SendAdvert(self._priority)]

    def set_priority(self, now: int, priority: int) -> list[Action]:
        """The effective priority from tracking changed to ``priority`` (clamped to
        1..254, as keepalived). An address owner's priority never changes."""
        if self._owner:
            return []
        priority = min(max(priority, 1), PRIO_OWNER - 1)
        if priority == self._priority:
            return []
        self._priority = priority
        return [PriorityChanged(priority)]

    def interface_down(self, now: int, ifname: str = "") -> list[Action]:
        """The instance's interface (or a tracked interface) went down: Fault."""
        what = f"interface {ifname}" if ifname else "interface"
        return self._fault_raised(now, ("interface", ifname), what + " down")

    def interface_up(self, now: int, ifname: str = "") -> list[Action]:
        what = f"interface {ifname}" if ifname else "interface"
        return self._fault_cleared(now, ("interface", ifname), what + " up")

    def track_down(self, now: int, name: str) -> list[Action]:
        """A tracked object (script, process, file, BFD...) without weight failed: Fault."""
        return self._fault_raised(now, ("track", name), f"tracked {name} failed")

    def track_up(self, now: int, name: str) -> list[Action]:
        return self._fault_cleared(now, ("track", name), f"tracked {name} recovered")

    # -- sync groups (keepalived's vrrp_sync_group): a member's transition moves the others

    def sync_master(self, now: int, reason: str) -> list[Action]:
        """Another member of our sync group became master: a backup follows at once."""
        if self._state != State.BACKUP:
            return []
        return self._enter_master(now, reason)

    def sync_backup(self, now: int, reason: str) -> list[Action]:
        """Another member of our sync group became backup: a master follows at once
        (Master_Down from now, as after any move to backup)."""
        if self._state != State.MASTER:
            return []
        return self._enter_backup(now, reason, now + self.master_down_interval)

    def sync_fault(self, now: int, group: str) -> list[Action]:
        """A member of sync group ``group`` is in Fault: so is every member."""
        return self._fault_raised(now, ("sync", group), f"sync group {group} has a member in FAULT")

    def sync_recovered(self, now: int, group: str) -> list[Action]:
        return self._fault_cleared(now, ("sync", group), f"sync group {group} has no member in FAULT")

    def shutdown(self, now: int) -> list[Action]:
        """Shutdown event (RFC 9568 6.4.2 / 6.4.3): -> Initialize; a master sends a
        priority 0 advert first. ``start`` may follow."""
        state = self._state
        if state == State.INITIALIZE:
            return []
        self._state = State.INITIALIZE
        self._preempt_until = None
        actions: list[Action] = [Transition(state, State.INITIALIZE, "shutdown", now)]
        if state == State.MASTER:
            actions += [CancelTimers(), SendShutdownAdvert()]
        elif state == State.BACKUP:
            actions.append(CancelTimers())
        actions.append(EnterInitialize())
        return actions

    # -- the states' rules -----------------------------------------------------------------

    def _backup_rx(self, now: int, priority: int, advert_int_cs: int) -> list[Action]:
        # RFC 9568 6.4.2 "If the Priority in the ADVERTISEMENT is 0, then: Set the Active_Down_Timer
        # to Skew_Time": the master resigned; take over after Skew_Time
        if priority == PRIO_STOP:
            return [ArmMasterDown(now + self.skew_time)]
        ours = self._priority
        delay, until = self._preempt_delay, self._preempt_until
        # "If Preempt_Mode is False, or if the Priority in the ADVERTISEMENT is greater than or
        # equal to the local Priority": accept. keepalived also accepts lower adverts while a
        # preempt_delay runs (or starts one)
        if not self._preempt or priority >= ours or (delay and (until is None or now < until)):
            if self._p.version == 3:
                self._master_adver_int_cs = advert_int_cs  # "Set the Active_Adver_Interval to ..."
            if delay:
                if priority >= ours:
                    self._preempt_until = None
                elif until is None:
                    self._preempt_until = now + delay
            # "Recompute the Skew_Time, the Active_Down_Interval, set the Active_Down_Timer"
            return [ArmMasterDown(now + self.master_down_interval)]
        return []  # "Discard the ADVERTISEMENT": the Master_Down timer runs on and we take over

    def _master_rx(self, now: int, priority: int, src_addr: int, advert_int_cs: int) -> list[Action]:
        ours = self._priority
        # RFC 9568 6.4.3 "If the Priority in the ADVERTISEMENT is 0, then: Send an ADVERTISEMENT,
        # Reset the Adver_Timer to Advertisement_Interval"
        if priority == PRIO_STOP:
            interval = self.advert_interval
            return [SendAdvert(ours), ArmAdvertTimer(now + interval, interval)]
        # "greater than the local Priority or ... equal ... and the primary IPvX address of the
        # sender is greater than the local primary IPvX address": yield (Cancel Adver_Timer, set
        # Active_Adver_Interval, Active_Down_Timer, transition to Backup)
        if priority > ours or (priority == ours and src_addr > self._p.address):
            actions: list[Action] = [SendAdvert(ours)] if self._p.higher_prio_send_advert else []
            if self._p.version == 3:
                self._master_adver_int_cs = advert_int_cs
            if priority > ours:
                reason = f"higher priority {priority} from {self._addr_text(src_addr)}"
            else:
                reason = f"equal priority {priority} from higher address {self._addr_text(src_addr)}"
            return actions + self._enter_backup(now, reason, now + self.master_down_interval)
        if priority == ours and src_addr == self._p.address:
            return []  # our own advert, or a twin with our address: nothing to decide
        # "else: Discard the ADVERTISEMENT, Send an ADVERTISEMENT immediately to assert the
        # {Active} state" (RFC 9568; RFC 3768 only discards, keepalived sends for both)
        actions = [] if self._p.lower_prio_no_advert else [SendAdvert(ours)]
        actions.append(RxLowerPriority(priority, src_addr))
        return actions

    # -- transitions -----------------------------------------------------------------------

    def _enter_master(self, now: int, reason: str) -> list[Action]:
        # RFC 9568 6.4.1 (owner startup) and 6.4.2 (Active_Down_Timer fires): Send an
        # ADVERTISEMENT, gratuitous ARP / unsolicited NA, Set the Adver_Timer, -> Active
        previous, self._state = self._state, State.MASTER
        self._preempt_until = None
        interval = self.advert_interval
        return [Transition(previous, State.MASTER, reason, now), CancelTimers(), SendAdvert(self._priority),
                BecomeMaster(), ArmAdvertTimer(now + interval, interval)]

    def _enter_backup(self, now: int, reason: str, master_down_deadline: int) -> list[Action]:
        previous, self._state = self._state, State.BACKUP
        self._preempt_until = None
        return [Transition(previous, State.BACKUP, reason, now), CancelTimers(), BecomeBackup(),
                ArmMasterDown(master_down_deadline)]

    def _enter_fault(self, now: int, reason: str) -> list[Action]:
        previous, self._state = self._state, State.FAULT
        self._preempt_until = None
        actions: list[Action] = [Transition(previous, State.FAULT, reason, now)]
        if previous == State.MASTER:
            actions += [CancelTimers(), SendShutdownAdvert()]
        elif previous == State.BACKUP:
            actions.append(CancelTimers())
        actions.append(EnterFault())
        return actions

    def _fault_raised(self, now: int, key: tuple[str, str], reason: str) -> list[Action]:
        if key in self._faults:
            return []
        self._faults[key] = reason
        if self._state in (State.BACKUP, State.MASTER):
            return self._enter_fault(now, reason)
        return []

    def _fault_cleared(self, now: int, key: tuple[str, str], reason: str) -> list[Action]:
        if self._faults.pop(key, None) is None:
            return []
        if self._state != State.FAULT or self._faults:
            return []
        self._master_adver_int_cs = self._p.advert_int_cs
        if self._owner:
            # keepalived try_up_instance: an owner waits one advert interval (plus skew)
            deadline = now + self.advert_interval + self.skew_time
        else:
            deadline = now + self.master_down_interval
        return self._enter_backup(now, reason + ", no fault left", deadline)

    def carry_from(self, old: "VrrpStateMachine") -> None:
        """A reload: take old's protocol state (state, effective priority, faults, the
        master's advertised interval, a running preempt delay) into this machine, built
        from the instance's new configuration. Nothing is sent or armed: the timers are
        the engine's and carry over as they are (fastka.vrrp.reload)."""
        self._state = old._state
        if not self._owner and not old._owner:
            self._priority = old._priority  # the engine sets the new effective priority next
        self._faults = dict(old._faults)
        self._master_adver_int_cs = old._master_adver_int_cs
        self._preempt_until = old._preempt_until if self._preempt and self._preempt_delay else None

    def _addr_text(self, addr: int) -> str:
        try:
            return str(ipaddress.IPv4Address(addr) if self._p.family == 4 else ipaddress.IPv6Address(addr))
        except ValueError:
            return str(addr)

    def __repr__(self) -> str:
        return (f"<VrrpStateMachine {self._state} priority {self._priority} "
                f"address {self._addr_text(self._p.address)} v{self._p.version}>")
