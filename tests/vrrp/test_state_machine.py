"""The VRRP state machine: every rule of RFC 9568 section 6.4 (and RFC 3768's where they
differ), the timing of both versions, keepalived 2.2.7's knobs, and simulated networks of
two or three routers on a fake clock (tests/vrrp/simulation.py).

Times are microseconds; S is one second.
"""

from __future__ import annotations

import copy
import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastka.vrrp import (
    ArmAdvertTimer,
    ArmMasterDown,
    BecomeBackup,
    BecomeMaster,
    CancelTimers,
    EnterFault,
    EnterInitialize,
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

from .simulation import Network

S = 1_000_000
MS = 1_000


def a(text: str) -> int:
    return int(ipaddress.ip_address(text))


ME = a("10.0.0.1")
PEER = a("10.0.0.2")
LOW = a("10.0.0.0")


def params(**kw: object) -> Params:
    base: dict[str, object] = {"priority": 100, "address": ME, "version": 3, "advert_int_cs": 100}
    base.update(kw)
    return Params(**base)  # type: ignore[arg-type]


def machine(**kw: object) -> VrrpStateMachine:
    return VrrpStateMachine(params(**kw))


def backup(now: int = 0, **kw: object) -> VrrpStateMachine:
    sm = machine(**kw)
    sm.start(now)
    assert sm.state == State.BACKUP
    return sm


def master(now: int = 0, **kw: object) -> VrrpStateMachine:
    sm = machine(**kw)
    sm.start(now)
    if sm.state == State.BACKUP:
        sm.master_down_expired(now + sm.master_down_interval)
    assert sm.state == State.MASTER
    return sm


def transition(actions: list) -> Transition:
    found = [x for x in actions if isinstance(x, Transition)]
    assert len(found) == 1, actions
    return found[0]


# -- timing ---------------------------------------------------------------------------------


def test_v3_skew_time_and_master_down_interval():
    """RFC 9568 6.1: Skew_Time = ((256 - Priority) * Active_Adver_Interval) / 256 and
    Active_Down_Interval = (3 * Active_Adver_Interval) + Skew_Time."""
    assert skew_time(3, 100, 100) == 156 * S // 256 == 609_375
    assert master_down_interval(3, 100, 100) == 3 * S + 609_375
    assert master_down_interval(3, 255, 100) == 3 * S + 3_906  # 1/256 s, floored
    assert master_down_interval(3, 1, 5) == 150 * MS + 255 * 50 * MS // 256
    sm = backup(priority=100, advert_int_cs=50)
    assert (sm.skew_time, sm.master_down_interval) == (304_687, 1_804_687)


def test_v2_skew_time_ignores_the_advert_interval():
    """RFC 3768 6.1: Skew_Time = (256 - Priority) / 256 seconds whatever the interval;
    Master_Down_Interval = 3 * Advertisement_Interval + Skew_Time."""
    assert skew_time(2, 100, 100) == skew_time(2, 100, 300) == 609_375
    assert master_down_interval(2, 100, 300) == 9 * S + 609_375
    assert master_down_interval(2, 254, 100) == 3 * S + 7_812


@given(st.integers(1, 255), st.integers(1, 4095))
def test_v3_skew_floors_as_keepalived(priority, interval_cs):
    """keepalived computes Skew_Time in microseconds as (256 - p) * cs * 625 / 16 (vrrp.h,
    VRRP_TIMER_SKEW); our integer microseconds give the same value, never a float's."""
    assert skew_time(3, priority, interval_cs) == (256 - priority) * interval_cs * 625 // 16


def test_down_timer_adverts():
    """keepalived's down_timer_adverts replaces the RFCs' 3 in Master_Down_Interval."""
    assert backup(down_timer_adverts=1).master_down_interval == 1 * S + 609_375
    assert backup(down_timer_adverts=5, version=2).master_down_interval == 5 * S + 609_375


def test_v3_backup_learns_the_master_advert_interval():
    """RFC 9568 6.4.2: a backup sets Active_Adver_Interval to the interval in the accepted
    ADVERTISEMENT and recomputes Skew_Time and Active_Down_Interval from it."""
    sm = backup(priority=100, advert_int_cs=100)
    out = sm.advert_received(5 * S, 200, PEER, 50)
    assert out == [ArmMasterDown(5 * S + 1_500_000 + 156 * 500_000 // 256)]
    assert sm.master_adver_int_cs == 50


def test_v2_backup_keeps_its_own_interval():
    """RFC 3768: VRRPv2 has no Master_Adver_Interval; the advert interval is not learned."""
    sm = backup(version=2, priority=100)
    assert sm.advert_received(S, 200, PEER, 300) == [ArmMasterDown(S + 3_609_375)]
    assert sm.master_adver_int_cs == 100


# -- RFC 9568 6.4.1 Initialize ----------------------------------------------------------------


def test_initialize_startup_address_owner_becomes_master():
    """RFC 9568 6.4.1: on Startup with Priority 255: Send an ADVERTISEMENT, gratuitous ARP /
    unsolicited NA for each address, Set the Adver_Timer to Advertisement_Interval,
    transition to Active."""
    sm = machine(priority=255, advert_int_cs=100)
    assert sm.start(7 * S) == [
        Transition(State.INITIALIZE, State.MASTER, "startup as address owner (priority 255)", 7 * S),
        CancelTimers(), SendAdvert(255), BecomeMaster(), ArmAdvertTimer(8 * S, S),
    ]
    assert sm.state == State.MASTER


def test_initialize_startup_non_owner_becomes_backup():
    """RFC 9568 6.4.1: otherwise Set Active_Adver_Interval to Advertisement_Interval, Set the
    Active_Down_Timer to Active_Down_Interval, transition to Backup."""
    sm = machine(priority=100, advert_int_cs=200)
    assert sm.start(S) == [
        Transition(State.INITIALIZE, State.BACKUP, "startup", S),
        CancelTimers(), BecomeBackup(), ArmMasterDown(S + 6 * S + 156 * 2 * S // 256),
    ]
    assert sm.master_adver_int_cs == 200


def test_start_is_ignored_once_started():
    sm = backup()
    assert sm.start(S) == []
    assert sm.state == State.BACKUP


# -- keepalived's `state MASTER` -----------------------------------------------------------------


def test_state_master_without_priority_255_starts_like_backup():
    """keepalived 2.2.7 (measured: priority 100, advert_int 1, VRRPv2 went master after
    3.61 s with state MASTER as with state BACKUP): state MASTER does not make a
    non-owner master sooner."""
    as_master = machine(initial_state="MASTER", version=2).start(0)
    as_backup = machine(initial_state="BACKUP", version=2).start(0)
    assert as_master == as_backup
    assert ArmMasterDown(3_609_375) in as_master


def test_state_master_clears_nopreempt_and_preempt_delay():
    """keepalived 2.2.7 logs "nopreempt will not work with initial state MASTER - clearing"
    and the same for preempt delay: such an instance preempts at once."""
    sm = machine(initial_state="MASTER", preempt=False, preempt_delay_us=3 * S)
    assert (sm.preempt, sm.preempt_delay) == (True, 0)
    assert len(sm.notes) == 2 and "nopreempt" in sm.notes[0] and "preempt_delay" in sm.notes[1]
    sm.start(0)
    assert sm.advert_received(S, 50, PEER, 100) == []  # lower: discarded, no delay window
    assert sm.preempt_until is None


def test_state_backup_keeps_nopreempt_and_preempt_delay():
    sm = machine(preempt=False, preempt_delay_us=3 * S)
    assert (sm.preempt, sm.notes) == (False, ())
    assert sm.preempt_delay == 0  # preempt_delay has nothing to delay without preempting
    sm = machine(preempt_delay_us=3 * S)
    assert (sm.preempt, sm.preempt_delay) == (True, 3 * S)


def test_address_owner_with_state_backup_still_starts_as_master():
    """RFC 9568 6.4.1 makes the owner Active at startup; keepalived 2.2.7 only does so with
    state MASTER (with state BACKUP it waited 3.004 s). fastka follows the RFC."""
    out = machine(priority=255, initial_state="BACKUP").start(0)
    assert transition(out).to_state == State.MASTER


# -- RFC 9568 6.4.2 Backup ---------------------------------------------------------------------


def test_backup_shutdown():
    """RFC 9568 6.4.2: If a Shutdown event is received: Cancel the Active_Down_Timer,
    transition to Initialize."""
    sm = backup()
    assert sm.shutdown(2 * S) == [
        Transition(State.BACKUP, State.INITIALIZE, "shutdown", 2 * S), CancelTimers(), EnterInitialize(),
    ]
    assert sm.state == State.INITIALIZE
    assert sm.advert_received(3 * S, 200, PEER, 100) == []
    assert sm.master_down_expired(9 * S) == []


def test_backup_master_down_timer_fires():
    """RFC 9568 6.4.2: If the Active_Down_Timer fires: Send an ADVERTISEMENT, gratuitous ARP /
    unsolicited NA, Set the Adver_Timer to Advertisement_Interval, transition to Active."""
    sm = backup(priority=120, advert_int_cs=50)
    out = sm.master_down_expired(4 * S)
    assert out == [
        Transition(State.BACKUP, State.MASTER,
                   "no advertisement accepted from a master before the Master_Down timer expired", 4 * S),
        CancelTimers(), SendAdvert(120), BecomeMaster(), ArmAdvertTimer(4 * S + 500 * MS, 500 * MS),
    ]
    assert sm.state == State.MASTER


def test_backup_priority_zero_sets_master_down_to_skew_time():
    """RFC 9568 6.4.2: If the Priority in the ADVERTISEMENT is 0: Set the Active_Down_Timer to
    Skew_Time (the master resigned; the best backup takes over first)."""
    sm = backup(priority=100)
    assert sm.advert_received(10 * S, 0, PEER, 100) == [ArmMasterDown(10 * S + 609_375)]
    assert sm.state == State.BACKUP
    assert sm.master_adver_int_cs == 100


def test_backup_accepts_higher_priority():
    """RFC 9568 6.4.2: if the Priority in the ADVERTISEMENT is greater than or equal to the
    local Priority: set Active_Adver_Interval from it, recompute Skew_Time and
    Active_Down_Interval, reset the Active_Down_Timer."""
    sm = backup(priority=100, advert_int_cs=100)
    assert sm.advert_received(S, 101, PEER, 200) == [ArmMasterDown(S + 6 * S + 156 * 2 * S // 256)]
    assert sm.master_adver_int_cs == 200


def test_backup_accepts_equal_priority_whatever_the_address():
    """RFC 9568 6.4.2: an equal priority is accepted in Backup; the address tie-break is a
    rule of the Active state only, so an established equal master is not preempted."""
    sm = backup(priority=100, address=a("10.0.0.9"))
    assert sm.advert_received(S, 100, a("10.0.0.1"), 100) == [ArmMasterDown(S + 3_609_375)]


def test_backup_without_preempt_accepts_lower_priority():
    """RFC 9568 6.4.2: if Preempt_Mode is False the advertisement is accepted whatever its
    priority (keepalived's nopreempt)."""
    sm = backup(priority=200, preempt=False)
    assert sm.advert_received(S, 50, PEER, 100) == [ArmMasterDown(S + 3 * S + 56 * S // 256)]
    assert sm.advert_received(2 * S, 1, PEER, 20) == [ArmMasterDown(2 * S + 600 * MS + 56 * 200 * MS // 256)]


def test_backup_preempting_discards_lower_priority():
    """RFC 9568 6.4.2: else (Preempt_Mode True and a lower priority): Discard the
    ADVERTISEMENT. The Active_Down_Timer keeps running and this router takes over."""
    sm = backup(priority=200)
    assert sm.advert_received(S, 199, PEER, 100) == []
    assert sm.advert_received(S, 1, PEER, 7) == []
    assert sm.master_adver_int_cs == 100  # a discarded advert teaches nothing
    assert transition(sm.master_down_expired(3 * S + 218_750)).to_state == State.MASTER


# -- RFC 9568 6.4.3 Active (Master) -------------------------------------------------------------


def test_master_shutdown_sends_priority_zero():
    """RFC 9568 6.4.3: If a Shutdown event is received: Cancel the Adver_Timer, Send an
    ADVERTISEMENT with Priority = 0, transition to Initialize."""
    sm = master()
    assert sm.shutdown(9 * S) == [
        Transition(State.MASTER, State.INITIALIZE, "shutdown", 9 * S),
        CancelTimers(), SendShutdownAdvert(), EnterInitialize(),
    ]
    assert sm.state == State.INITIALIZE
    assert sm.advert_timer_expired(10 * S) == []


def test_master_adver_timer_fires():
    """RFC 9568 6.4.3: If the Adver_Timer fires: Send an ADVERTISEMENT, Reset the Adver_Timer.
    The timer is periodic from its deadline (ArmAdvertTimer's contract), so the expiry
    only sends."""
    sm = master(priority=150)
    assert sm.advert_timer_expired(5 * S) == [SendAdvert(150)]
    assert sm.state == State.MASTER


def test_master_receives_priority_zero():
    """RFC 9568 6.4.3: If the Priority in the ADVERTISEMENT is 0: Send an ADVERTISEMENT,
    Reset the Adver_Timer to Advertisement_Interval."""
    sm = master(priority=150, advert_int_cs=30)
    assert sm.advert_received(5 * S, 0, PEER, 100) == [SendAdvert(150), ArmAdvertTimer(5 * S + 300 * MS, 300 * MS)]
    assert sm.state == State.MASTER


def test_master_yields_to_higher_priority():
    """RFC 9568 6.4.3: if the Priority in the ADVERTISEMENT is greater than the local Priority:
    Cancel Adver_Timer, set Active_Adver_Interval from it, recompute Skew_Time and
    Active_Down_Interval, Set the Active_Down_Timer, transition to Backup."""
    sm = master(priority=100, advert_int_cs=100)
    out = sm.advert_received(20 * S, 150, PEER, 50)
    assert out == [
        Transition(State.MASTER, State.BACKUP, "higher priority 150 from 10.0.0.2", 20 * S),
        CancelTimers(), BecomeBackup(), ArmMasterDown(20 * S + 1_500_000 + 156 * 500_000 // 256),
    ]
    assert (sm.state, sm.master_adver_int_cs) == (State.BACKUP, 50)


def test_master_yields_to_equal_priority_from_higher_address():
    """RFC 9568 6.4.3: ... or the Priority is equal to the local Priority and the primary IPvX
    address of the sender is greater than the local primary IPvX address."""
    sm = master(priority=100, address=a("10.0.0.5"))
    out = sm.advert_received(20 * S, 100, a("10.0.0.6"), 100)
    assert transition(out) == Transition(State.MASTER, State.BACKUP,
                                         "equal priority 100 from higher address 10.0.0.6", 20 * S)


def test_master_asserts_itself_against_lower_priority():
    """RFC 9568 6.4.3: else (a lower priority, or equal from a lower address): Discard the
    ADVERTISEMENT and Send an ADVERTISEMENT immediately; the Adver_Timer is not reset."""
    sm = master(priority=100)
    assert sm.advert_received(20 * S, 99, PEER, 100) == [SendAdvert(100), RxLowerPriority(99, PEER)]
    assert sm.advert_received(21 * S, 100, LOW, 100) == [SendAdvert(100), RxLowerPriority(100, LOW)]
    assert sm.state == State.MASTER


def test_v2_master_also_answers_lower_priority_as_keepalived():
    """RFC 3768 6.4.3 only discards a lower advertisement; keepalived answers it for both
    versions unless lower_prio_no_advert, and so does fastka."""
    sm = master(version=2)
    assert sm.advert_received(20 * S, 99, PEER, 100) == [SendAdvert(100), RxLowerPriority(99, PEER)]


def test_lower_prio_no_advert():
    sm = master(lower_prio_no_advert=True)
    assert sm.advert_received(20 * S, 99, PEER, 100) == [RxLowerPriority(99, PEER)]


def test_higher_prio_send_advert():
    """keepalived's higher_prio_send_advert: one advert (our priority) before yielding."""
    sm = master(higher_prio_send_advert=True, priority=100)
    out = sm.advert_received(20 * S, 101, PEER, 100)
    assert out[0] == SendAdvert(100) and transition(out).to_state == State.BACKUP


def test_master_ignores_its_own_priority_from_its_own_address():
    sm = master(priority=100)
    assert sm.advert_received(20 * S, 100, ME, 100) == []


# -- tie-break on the primary address, unsigned, both families -------------------------------


@pytest.mark.parametrize(("mine", "theirs", "yields"), [
    ("10.0.0.2", "10.0.0.10", True),      # numerically, not as text ("10.0.0.10" < "10.0.0.2")
    ("10.0.0.10", "10.0.0.2", False),
    ("10.255.255.255", "200.0.0.1", True),  # unsigned: 200.x is not a negative int32
    ("200.0.0.1", "10.255.255.255", False),
])
def test_ipv4_tie_break_is_unsigned(mine, theirs, yields):
    """RFC 9568 6.4.3: the comparison is an unsigned integer comparison of the IPv4 addresses
    in network byte order."""
    sm = master(address=a(mine), priority=100)
    out = sm.advert_received(S, 100, a(theirs), 100)
    assert (sm.state == State.BACKUP) == yields
    if not yields:
        assert out == [SendAdvert(100), RxLowerPriority(100, a(theirs))]


@pytest.mark.parametrize(("mine", "theirs", "yields"), [
    ("fe80::1", "fe80::1:0", True),
    ("fe80::ffff", "fe80::1:0", True),
    ("fe80::1:0", "fe80::ffff", False),
    ("fe80::8000:0:0:0", "fe80::7fff:ffff:ffff:ffff", False),
    ("fe80::1", "fe81::", True),          # differs in the top 16 bits
])
def test_ipv6_tie_break_is_unsigned(mine, theirs, yields):
    """RFC 9568 6.4.3: the same unsigned comparison over the 128-bit IPv6 addresses."""
    sm = master(address=a(mine), family=6, priority=100)
    out = sm.advert_received(S, 100, a(theirs), 100)
    assert (sm.state == State.BACKUP) == yields
    if yields:
        assert transition(out).reason == f"equal priority 100 from higher address {theirs}"


@pytest.mark.parametrize("family", [4, 6])
def test_equal_priorities_started_together_elect_the_highest_address(family):
    """Three routers of equal priority starting at the same instant all time out together,
    all become master, and the tie-break leaves only the highest address."""
    addrs = ["10.0.0.7", "10.0.0.200", "10.0.0.30"] if family == 4 else ["fe80::7", "fe80::1:0", "fe80::ff"]
    net = Network([params(address=a(x), family=family, priority=100) for x in addrs], delay=1 * MS)
    for i in range(3):
        net.at(0, i, VrrpStateMachine.start)
    net.run_until(3_609_375)
    assert net.masters() == [0, 1, 2]
    net.run_until(3_609_375 + 2 * MS)
    assert net.masters() == [1]
    assert [len(n.transitions) for n in net.nodes] == [3, 2, 3]  # init->backup->master->backup
    net.run_until(60 * S)
    assert net.masters() == [1]


# -- priority 0 on both sides, shutdown -----------------------------------------------------


def test_shutdown_of_master_hands_over_after_skew_time():
    """RFC 9568 6.4.3 / 6.4.2: the master's priority 0 advert makes the best backup take over
    after its Skew_Time, not after a whole Active_Down_Interval."""
    net = Network([params(priority=200, address=ME), params(priority=100, address=PEER),
                   params(priority=50, address=LOW)])
    for i in range(3):
        net.at(0, i, VrrpStateMachine.start)
    net.at(10 * S + 123, 0, VrrpStateMachine.shutdown)
    net.run_until(20 * S)
    assert net.masters() == [1]
    took_over = net.nodes[1].transitions[-1]
    assert (took_over.to_state, took_over.at) == (State.MASTER, 10 * S + 123 + 609_375)
    assert net.nodes[0].sent[-1] == (10 * S + 123, 0)


# -- tracking: effective priority changes ------------------------------------------------------


def test_set_priority_clamps_like_keepalived():
    sm = backup(priority=100)
    assert sm.set_priority(S, 120) == [PriorityChanged(120)]
    assert sm.set_priority(S, 120) == []
    assert sm.set_priority(S, 400) == [PriorityChanged(254)]
    assert sm.set_priority(S, -20) == [PriorityChanged(1)]
    assert sm.priority == 1


def test_address_owner_priority_does_not_track():
    """keepalived: an instance configured with priority 255 keeps it whatever tracking says."""
    sm = master(priority=255)
    assert sm.set_priority(S, 100) == []
    assert sm.priority == 255


def test_master_adverts_carry_the_new_priority():
    sm = master(priority=200)
    assert sm.set_priority(S, 90) == [PriorityChanged(90)]
    assert sm.advert_timer_expired(2 * S) == [SendAdvert(90)]
    assert sm.state == State.MASTER  # no election until an advert says so


def test_backup_skew_follows_the_new_priority_from_the_next_arming():
    sm = backup(priority=100)
    sm.set_priority(S, 200)
    assert sm.advert_received(2 * S, 250, PEER, 100) == [ArmMasterDown(2 * S + 3 * S + 56 * S // 256)]


def test_master_whose_priority_drops_is_preempted_by_a_backup():
    """A master's priority falls below a backup's: the backup discards the now lower adverts
    and takes over when its Active_Down_Timer, armed by the last accepted one, fires."""
    net = Network([params(priority=200, address=ME), params(priority=150, address=PEER)])
    net.at(0, 0, VrrpStateMachine.start)
    net.at(0, 1, VrrpStateMachine.start)
    net.at(10 * S + 500 * MS, 0, lambda sm, now: sm.set_priority(now, 100))
    net.run_until(30 * S)
    assert net.masters() == [1]
    # node 0 went master at 3.21875 s and advertised every second after: last accepted 10.21875 s
    took_over = net.nodes[1].transitions[-1]
    assert took_over.at == 10 * S + 218_750 + master_down_interval(3, 150, 100)
    yielded = net.nodes[0].transitions[-1]
    assert (yielded.at, yielded.reason) == (took_over.at, "higher priority 150 from 10.0.0.2")
    sent = net.nodes[0].sent
    assert [t for t, p in sent if p == 200][-1] == 10 * S + 218_750
    assert {p for t, p in sent if t > 10 * S + 500 * MS} == {100}


def test_backup_whose_priority_rises_preempts_the_master():
    net = Network([params(priority=200, address=ME), params(priority=150, address=PEER)])
    net.at(0, 0, VrrpStateMachine.start)
    net.at(0, 1, VrrpStateMachine.start)
    net.at(10 * S, 1, lambda sm, now: sm.set_priority(now, 254))
    net.run_until(30 * S)
    assert net.masters() == [1]
    # the timer armed by the last accepted advert (9.21875 s) keeps its Skew_Time for
    # priority 150; the new one applies from the next arming (keepalived shifts the timer)
    assert net.nodes[1].transitions[-1].at == 9 * S + 218_750 + master_down_interval(3, 150, 100)


# -- preempt / nopreempt / preempt_delay ---------------------------------------------------------


def test_nopreempt_backup_leaves_a_lower_master_alone():
    net = Network([params(priority=50, address=ME), params(priority=200, address=PEER, preempt=False)])
    net.at(0, 0, VrrpStateMachine.start)
    net.at(5 * S, 1, VrrpStateMachine.start)
    net.run_until(60 * S)
    assert net.masters() == [0]


def test_preempting_backup_takes_over_a_lower_master_after_master_down_interval():
    net = Network([params(priority=50, address=ME), params(priority=200, address=PEER)])
    net.at(0, 0, VrrpStateMachine.start)
    net.at(5 * S, 1, VrrpStateMachine.start)
    net.run_until(60 * S)
    assert net.masters() == [1]
    assert net.nodes[1].transitions[-1].at == 5 * S + master_down_interval(3, 200, 100)


def test_preempt_delay_accepts_lower_adverts_until_it_ends():
    """keepalived's preempt_delay: the first lower advert starts the delay; lower adverts are
    accepted (re-arm Master_Down) while now < its end, discarded afterwards."""
    sm = backup(priority=200, preempt_delay_us=2_500 * MS, version=2)
    mdi = sm.master_down_interval
    assert sm.advert_received(S, 100, PEER, 100) == [ArmMasterDown(S + mdi)]
    assert sm.preempt_until == 3_500 * MS
    assert sm.advert_received(2 * S, 100, PEER, 100) == [ArmMasterDown(2 * S + mdi)]
    assert sm.advert_received(3 * S, 100, PEER, 100) == [ArmMasterDown(3 * S + mdi)]
    assert sm.advert_received(3_500 * MS, 100, PEER, 100) == []
    assert sm.advert_received(4 * S, 100, PEER, 100) == []
    assert transition(sm.master_down_expired(3 * S + mdi)).to_state == State.MASTER


def test_preempt_delay_stops_on_an_equal_or_higher_advert():
    sm = backup(priority=200, preempt_delay_us=3 * S)
    sm.advert_received(S, 100, PEER, 100)
    assert sm.preempt_until == 4 * S
    sm.advert_received(2 * S, 200, LOW, 100)
    assert sm.preempt_until is None
    sm.advert_received(10 * S, 100, PEER, 100)
    assert sm.preempt_until == 13 * S


def test_preempt_delay_restarts_after_yielding_as_master():
    """keepalived clears the running delay when a master becomes backup."""
    sm = master(priority=200, preempt_delay_us=3 * S)
    sm.advert_received(10 * S, 250, PEER, 100)
    assert sm.state == State.BACKUP and sm.preempt_until is None
    sm.set_priority(11 * S, 254)
    assert sm.advert_received(11 * S, 250, PEER, 100) == [ArmMasterDown(11 * S + sm.master_down_interval)]
    assert sm.preempt_until == 14 * S


def test_preempt_delay_in_a_network_as_keepalived_measured():
    """keepalived 2.2.7, measured: a priority 100 backup with preempt_delay started beside a
    priority 50 master took over preempt_delay + Master_Down_Interval after the first lower
    advert (3 + 3.61 s). Here: delay 2.5 s, VRRPv2, so the last accepted advert is the
    third one."""
    net = Network([params(priority=50, address=ME, version=2),
                   params(priority=100, address=PEER, version=2, preempt_delay_us=2_500 * MS)])
    net.at(0, 0, VrrpStateMachine.start)
    net.at(10 * S, 1, VrrpStateMachine.start)
    net.run_until(40 * S)
    assert net.masters() == [1]
    assert net.nodes[0].transitions[1].at == 3_804_687  # node 0 went master, sends every second
    first_lower = 3_804_687 + 7 * S
    assert [t.at for t in net.nodes[1].transitions] == [10 * S, first_lower + 2 * S + 3_609_375]


def test_state_master_preempts_without_the_configured_delay():
    """keepalived 2.2.7, measured: with state MASTER the preempt_delay is cleared and the
    instance takes over one Master_Down_Interval after starting."""
    net = Network([params(priority=50, address=ME, version=2),
                   params(priority=100, address=PEER, version=2, preempt_delay_us=3 * S, initial_state="MASTER")])
    net.at(0, 0, VrrpStateMachine.start)
    net.at(10 * S, 1, VrrpStateMachine.start)
    net.run_until(40 * S)
    assert net.masters() == [1]
    assert net.nodes[1].transitions[-1].at == 10 * S + 3_609_375


# -- the address owner ---------------------------------------------------------------------


def test_address_owner_takes_over_at_once_when_it_starts():
    net = Network([params(priority=200, address=PEER), params(priority=255, address=ME)])
    net.at(0, 0, VrrpStateMachine.start)
    net.at(10 * S, 1, VrrpStateMachine.start)
    net.run_until(20 * S)
    assert net.masters() == [1]
    assert net.nodes[0].transitions[-1] == Transition(State.MASTER, State.BACKUP,
                                                      "higher priority 255 from 10.0.0.1", 10 * S)


def test_address_owner_recovering_from_fault_waits_one_interval_and_skew():
    """keepalived try_up_instance: an owner leaving Fault waits advert_int + Skew_Time."""
    sm = master(priority=255)
    sm.interface_down(S, "eth0")
    out = sm.interface_up(2 * S, "eth0")
    assert out[-1] == ArmMasterDown(2 * S + S + 3_906)
    assert transition(out).to_state == State.BACKUP


# -- Fault -------------------------------------------------------------------------------------


def test_master_interface_down_enters_fault():
    """keepalived: a master going to Fault sends a priority 0 advert and releases the VIPs."""
    sm = master()
    assert sm.interface_down(5 * S, "eth0") == [
        Transition(State.MASTER, State.FAULT, "interface eth0 down", 5 * S),
        CancelTimers(), SendShutdownAdvert(), EnterFault(),
    ]
    assert sm.faults == ("interface eth0 down",)


def test_backup_tracked_failure_enters_fault():
    sm = backup()
    assert sm.track_down(5 * S, "chk_nginx") == [
        Transition(State.BACKUP, State.FAULT, "tracked chk_nginx failed", 5 * S), CancelTimers(), EnterFault(),
    ]


def test_fault_ignores_adverts_and_timers():
    sm = master()
    sm.track_down(S, "chk")
    for call in (lambda: sm.advert_received(2 * S, 0, PEER, 100), lambda: sm.advert_received(2 * S, 254, PEER, 100),
                 lambda: sm.master_down_expired(9 * S), lambda: sm.advert_timer_expired(9 * S),
                 lambda: sm.track_down(3 * S, "chk")):
        assert call() == []
    assert sm.state == State.FAULT


def test_fault_recovers_to_backup_when_every_cause_is_gone():
    sm = backup(priority=100, advert_int_cs=100)
    sm.advert_received(S, 200, PEER, 40)  # learned 40 cs from a master
    sm.interface_down(2 * S, "eth0")
    sm.track_down(3 * S, "chk")
    assert sm.interface_up(4 * S, "eth0") == []
    assert sm.state == State.FAULT and sm.faults == ("tracked chk failed",)
    assert sm.track_up(5 * S, "chk") == [
        Transition(State.FAULT, State.BACKUP, "tracked chk recovered, no fault left", 5 * S),
        CancelTimers(), BecomeBackup(), ArmMasterDown(5 * S + 3_609_375),
    ]
    assert sm.master_adver_int_cs == 100


def test_start_with_a_known_fault_enters_fault():
    sm = machine()
    assert sm.interface_down(0, "eth0") == []
    assert sm.start(S) == [Transition(State.INITIALIZE, State.FAULT, "startup with interface eth0 down", S),
                           EnterFault()]
    assert transition(sm.interface_up(2 * S, "eth0")).to_state == State.BACKUP


def test_shutdown_from_fault_keeps_the_fault():
    sm = backup()
    sm.interface_down(S)
    assert sm.shutdown(2 * S) == [Transition(State.FAULT, State.INITIALIZE, "shutdown", 2 * S), EnterInitialize()]
    assert transition(sm.start(3 * S)).to_state == State.FAULT


def test_master_in_fault_lets_the_backup_take_over_after_skew():
    net = Network([params(priority=200, address=ME), params(priority=100, address=PEER)])
    net.at(0, 0, VrrpStateMachine.start)
    net.at(0, 1, VrrpStateMachine.start)
    net.at(10 * S, 0, lambda sm, now: sm.track_down(now, "chk"))
    net.at(20 * S, 0, lambda sm, now: sm.track_up(now, "chk"))
    net.run_until(40 * S)
    assert net.nodes[1].transitions[1].at == 10 * S + 609_375
    assert net.masters() == [0]
    assert net.nodes[0].transitions[-1].at == 20 * S + master_down_interval(3, 200, 100)


def test_parameters_are_checked():
    for bad in ({"priority": 0}, {"priority": 256}, {"version": 2, "family": 6}, {"version": 2, "advert_int_cs": 150},
                {"advert_int_cs": 4096}, {"address": 1 << 32}, {"initial_state": "master"},
                {"preempt_delay_us": 1001 * S}, {"down_timer_adverts": 0}):
        with pytest.raises(ValueError):
            params(**bad)
    with pytest.raises(ValueError):
        backup().advert_received(0, 256, PEER, 100)
    with pytest.raises(ValueError):
        backup().advert_received(0, 100, PEER, 0)


# -- the fast-path predicate -------------------------------------------------------------------


def test_steady_state_backup_adverts_need_no_python():
    sm = backup(priority=100, preempt_delay_us=3 * S)
    sm.advert_received(S, 200, PEER, 100)
    view = sm.fast_path_view()
    assert classify_advert(view, 2 * S, 200, PEER, 100) == Verdict.REARM
    assert classify_advert(view, 2 * S, 100, PEER, 100) == Verdict.REARM
    assert classify_advert(view, 2 * S, 200, PEER, 50) == Verdict.CALL  # a new interval to learn
    assert classify_advert(view, 2 * S, 0, PEER, 100) == Verdict.CALL
    assert classify_advert(view, 2 * S, 99, PEER, 100) == Verdict.CALL  # starts the preempt delay


def test_steady_state_network_runs_without_python():
    """A master and two backups for 100 s: after startup not one received advert reaches
    advert_received, and the master's adverts go out from the prebuilt one."""
    net = Network([params(priority=200, address=ME), params(priority=100, address=PEER),
                   params(priority=50, address=LOW)])
    for i in range(3):
        net.at(0, i, VrrpStateMachine.start)
    net.run_until(100 * S)
    assert net.masters() == [0]
    assert [n.calls for n in net.nodes] == [0, 0, 0]
    assert len(net.nodes[0].sent) == 97  # 3.21875 s, then every second


def test_a_master_hands_every_foreign_advert_to_python():
    view = master(priority=100).fast_path_view()
    assert [classify_advert(view, 0, p, PEER, 100) for p in (0, 1, 99, 100, 101, 255)] == [Verdict.CALL] * 6
    assert classify_advert(view, 0, 100, ME, 100) == Verdict.IGNORE


def observed(sm: VrrpStateMachine, now: int, priority: int, src: int, interval: int) -> Verdict:
    before = sm.fast_path_view()
    out = sm.advert_received(now, priority, src, interval)
    if sm.fast_path_view() == before:
        if out == []:
            return Verdict.IGNORE
        if out == [ArmMasterDown(now + before.master_down_interval)]:
            return Verdict.REARM
    return Verdict.CALL


PRIORITIES = st.one_of(st.sampled_from([0, 1, 99, 100, 101, 254, 255]), st.integers(0, 255))
INTERVALS = st.sampled_from([100, 50, 7])
SOURCES = st.sampled_from([ME, PEER, LOW])
INPUTS = st.one_of(
    st.tuples(st.just("advert"), PRIORITIES, SOURCES, INTERVALS),
    st.tuples(st.just("master_down")),
    st.tuples(st.just("advert_timer")),
    st.tuples(st.just("set_priority"), st.sampled_from([50, 99, 100, 101, 200])),
    st.tuples(st.just("fault"), st.booleans()),
    st.tuples(st.just("shutdown")),
    st.tuples(st.just("start")),
)


@settings(max_examples=400, deadline=None)
@given(version=st.sampled_from([2, 3]), priority=st.sampled_from([1, 100, 101, 254, 255]),
       preempt=st.booleans(), delay=st.sampled_from([0, 0, 500 * MS, 3 * S]),
       initial=st.sampled_from(["BACKUP", "MASTER"]),
       steps=st.lists(st.tuples(st.integers(0, 2 * S), INPUTS), max_size=12),
       last=st.tuples(st.integers(0, 4 * S), PRIORITIES, SOURCES, INTERVALS))
def test_fast_path_predicate_is_exact(version, priority, preempt, delay, initial, steps, last):
    """For any reachable state and any advert, classify_advert says exactly what
    advert_received does: REARM = only [ArmMasterDown(now + Master_Down_Interval)] with the
    view unchanged, IGNORE = nothing with the view unchanged, CALL = anything else."""
    sm = machine(version=version, priority=priority, preempt=preempt, preempt_delay_us=delay,
                 initial_state=initial, advert_int_cs=100)
    now = 0
    sm.start(now)
    for dt, (kind, *args) in steps:
        now += dt
        if kind == "advert":
            sm.advert_received(now, *args)
        elif kind == "master_down":
            sm.master_down_expired(now)
        elif kind == "advert_timer":
            sm.advert_timer_expired(now)
        elif kind == "set_priority":
            sm.set_priority(now, args[0])
        elif kind == "fault":
            (sm.track_down if args[0] else sm.track_up)(now, "chk")
        elif kind == "shutdown":
            sm.shutdown(now)
        else:
            sm.start(now)
    dt, prio, src, interval = last
    now += dt
    predicted = classify_advert(sm.fast_path_view(), now, prio, src, interval)
    assert predicted == observed(copy.deepcopy(sm), now, prio, src, interval)


# -- random networks: convergence ------------------------------------------------------------


OPS = st.one_of(
    st.tuples(st.just("prio"), st.integers(1, 254)),
    st.tuples(st.sampled_from(["ifdown", "ifup", "trackdown", "trackup", "stop", "start"])),
)


def op_call(op: tuple):
    kind = op[0]
    if kind == "prio":
        return (lambda sm, now: sm.set_priority(now, op[1])), None
    return {
        "ifdown": ((lambda sm, now: sm.interface_down(now, "eth0")), False),
        "ifup": ((lambda sm, now: sm.interface_up(now, "eth0")), True),
        "trackdown": ((lambda sm, now: sm.track_down(now, "chk")), None),
        "trackup": ((lambda sm, now: sm.track_up(now, "chk")), None),
        "stop": (VrrpStateMachine.shutdown, None),
        "start": (VrrpStateMachine.start, None),
    }[kind]


@st.composite
def networks(draw, *, knobs: bool):
    n = draw(st.integers(2, 3))
    version = draw(st.sampled_from([2, 3]))
    family = 4 if version == 2 else draw(st.sampled_from([4, 6]))
    top = (1 << 32) if family == 4 else (1 << 128)
    addrs = draw(st.lists(st.integers(1, top - 1), min_size=n, max_size=n, unique=True))
    nodes = []
    for addr in addrs:
        kind = draw(st.integers(0, 19))  # 1 in 20 an address owner, 3 in 20 a shared priority
        priority = 255 if kind == 0 else 100 if kind <= 3 else draw(st.integers(1, 254))
        interval = 100 if version == 2 else draw(st.sampled_from([20, 50, 100, 300]))
        kw: dict[str, object] = {}
        if knobs:
            kw = {"preempt": draw(st.booleans()), "preempt_delay_us": draw(st.sampled_from([0, 700 * MS, 2 * S]))}
        nodes.append(params(priority=priority, address=addr, family=family, version=version, advert_int_cs=interval,
                            initial_state=draw(st.sampled_from(["BACKUP", "MASTER"])), **kw))
    starts = draw(st.lists(st.integers(0, 2 * S), min_size=n, max_size=n))
    events = draw(st.lists(st.tuples(st.integers(0, 10 * S), st.integers(0, n - 1), OPS), max_size=10))
    delay = draw(st.sampled_from([0, 0, 1 * MS, 20 * MS]))
    return nodes, starts, events, delay


def simulate(nodes, starts, events, delay, *, fast_path=True):
    net = Network(nodes, delay=delay, fast_path=fast_path)
    for i, t in enumerate(starts):
        net.at(t, i, VrrpStateMachine.start)
    for t, i, op in events:
        call, link = op_call(op)
        net.at(t, i, call, link)
    disturbed = max([*starts, *(t for t, _, _ in events)])
    version = nodes[0].version
    longest = max(p.advert_int_cs for p in nodes) * 10 * MS
    shortest = min(p.advert_int_cs for p in nodes) * 10 * MS
    # Master_Down_Interval is at most 3 * the longest interval + the largest Skew_Time
    down = 3 * longest + (longest if version == 3 else S)
    settle = down + 4 * delay
    if any(p.preempt_delay_us for p in nodes):
        # a lower master may emerge only when a Master_Down timer fires; the first advert a
        # delaying backup sees from it starts the delay, and the takeover comes one
        # Master_Down_Interval after the delay ends
        settle += max(p.preempt_delay_us for p in nodes) + down
    end = disturbed + settle + 20 * longest
    net.run_until(end)
    return net, disturbed, settle, shortest, end


def check_no_lasting_split_brain(net, disturbed, shortest, end):
    """After the last disturbance two masters never coexist for more than one advert interval."""
    for lo, hi, masters in net.spans(disturbed, end):
        assert len(masters) <= 1 or hi - lo <= shortest, (lo, hi, masters)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(knobs=False))
def test_random_networks_converge_to_the_highest_priority(net_spec):
    """Two or three routers (preempting), random start times, priority changes, interface
    and tracking faults, stops and restarts: within Master_Down_Interval of the last
    disturbance exactly one router is master and stays master, its priority is the
    highest of the routers in service (the only one that has it, unless equal-priority
    routers share the top: RFC 9568 does not preempt an equal master), and no two masters
    outlive an advert interval once the disturbances end."""
    nodes, starts, events, delay = net_spec
    net, disturbed, settle, shortest, end = simulate(nodes, starts, events, delay)
    live = [i for i, n in enumerate(net.nodes) if n.state in (State.BACKUP, State.MASTER)]
    spans = net.spans(disturbed + settle, end)
    assert spans, "nothing recorded after settling"
    winners = {m for _, _, m in spans}
    assert len(winners) == 1, spans
    (masters,) = winners
    if not live:
        assert masters == frozenset()
    else:
        assert len(masters) == 1
        (w,) = masters
        assert net.nodes[w].sm.priority == max(net.nodes[i].sm.priority for i in live)
    check_no_lasting_split_brain(net, disturbed, shortest, end)

    # the engine without the fast path (every advert through advert_received) does the same
    slow, *_ = simulate(nodes, starts, events, delay, fast_path=False)
    assert [n.transitions for n in slow.nodes] == [n.transitions for n in net.nodes]
    assert sum(n.calls for n in net.nodes) <= sum(n.calls for n in slow.nodes)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(knobs=True))
def test_random_networks_with_nopreempt_and_preempt_delay_converge_to_one_master(net_spec):
    """With nopreempt and preempt_delay mixed in, the master need not be the best router, but
    within 2 * Master_Down_Interval + preempt_delay of the last disturbance exactly one
    router is master and stays so; when every router preempts, it has the highest
    priority. No two masters outlive an advert interval once the disturbances end."""
    nodes, starts, events, delay = net_spec
    net, disturbed, settle, shortest, end = simulate(nodes, starts, events, delay)
    live = [i for i, n in enumerate(net.nodes) if n.state in (State.BACKUP, State.MASTER)]
    winners = {m for _, _, m in net.spans(disturbed + settle, end)}
    assert len(winners) == 1
    (masters,) = winners
    assert len(masters) == (1 if live else 0)
    if live and all(net.nodes[i].sm.preempt for i in live):
        (w,) = masters
        assert net.nodes[w].sm.priority == max(net.nodes[i].sm.priority for i in live)
    check_no_lasting_split_brain(net, disturbed, shortest, end)


# --- sync groups (keepalived's vrrp_sync_group) -------------------------------------


def test_sync_inputs_move_a_member_with_its_group():
    from fastka.vrrp.state_machine import Params, State, Transition, VrrpStateMachine

    sm = VrrpStateMachine(Params(priority=100, address=0x0A000001, version=3, advert_int_cs=100))
    sm.start(0)
    assert sm.state == State.BACKUP
    assert sm.sync_backup(10, "x") == [], "only a master follows a group to backup"
    acts = sm.sync_master(20, "sync group G: VI_2 became MASTER")
    assert sm.state == State.MASTER
    assert isinstance(acts[0], Transition) and acts[0].reason == "sync group G: VI_2 became MASTER"
    assert sm.sync_master(30, "again") == []
    sm.sync_backup(40, "sync group G: VI_2 became BACKUP")
    assert sm.state == State.BACKUP
    sm.sync_fault(50, "G")
    assert sm.state == State.FAULT and sm.faults == ("sync group G has a member in FAULT",)
    sm.sync_recovered(60, "G")
    assert sm.state == State.BACKUP and sm.faults == ()


# -- reload: carrying a machine's state into one built from a new configuration ---------


def test_carry_from_keeps_state_priority_faults_and_master_interval():
    old = VrrpStateMachine(params(priority=100))
    old.start(0)
    old.advert_received(10 * MS, 200, PEER, 50)  # a master advertising every 0.5 s
    old.set_priority(20 * MS, 90)  # tracking lowered it
    old.track_down(30 * MS, "chk")
    assert old.state == State.FAULT
    new = VrrpStateMachine(params(priority=150, advert_int_cs=50))
    new.carry_from(old)
    assert new.state == State.FAULT and new.faults == old.faults
    assert new.priority == 90, "the effective priority carries; the engine sets the new one next"
    assert new.master_adver_int_cs == 50
    assert new.set_priority(40 * MS, 150) == [PriorityChanged(150)]
    assert new.params.priority == 150


def test_carry_from_master_sends_nothing_and_keeps_mastership():
    old = VrrpStateMachine(params(priority=200))
    old.start(0)
    old.master_down_expired(old.master_down_interval)
    assert old.state == State.MASTER
    new = VrrpStateMachine(params(priority=200))
    new.carry_from(old)
    assert new.state == State.MASTER and new.fast_path_view() == old.fast_path_view()
    # a higher advert still makes it yield, as the old machine would
    assert any(isinstance(x, BecomeBackup) for x in new.advert_received(S, 250, PEER, 100))
