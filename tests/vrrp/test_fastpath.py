"""The native loop's advert predicate (csrc/vloop.c fk_vloop_classify) is exactly the
state machine's (state_machine.classify_advert), on every input."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastka
from fastka.vrrp.state_machine import FastPathView, State, classify_advert

pytestmark = pytest.mark.skipif(fastka.native is None, reason="no native core")

ADDRS4 = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
ADDRS6 = ["fe80::1", "fe80::2", "fe80::3"]


@st.composite
def cases(draw):
    v6 = draw(st.booleans())
    addrs = ADDRS6 if v6 else ADDRS4
    delay = draw(st.sampled_from([0, 0, 1_000_000]))
    view = FastPathView(
        state=draw(st.sampled_from(list(State))),
        version=3 if v6 else draw(st.sampled_from([2, 3])),
        priority=draw(st.sampled_from([1, 50, 100, 200, 254, 255])),
        address=int(ipaddress.ip_address(draw(st.sampled_from(addrs)))),
        preempt=draw(st.booleans()),
        preempt_delay=delay,
        preempt_until=draw(st.sampled_from([-1, 500_000, 2_000_000])) if delay else -1,
        master_adver_int_cs=draw(st.sampled_from([10, 100])),
        master_down_interval=draw(st.sampled_from([360_000, 3_600_000])),
    )
    now = draw(st.sampled_from([0, 1_000_000, 3_000_000]))
    prio = draw(st.sampled_from([0, 1, 50, 100, 200, 254, 255]))
    src = draw(st.sampled_from(addrs))
    aint = draw(st.sampled_from([10, 100, 50]))
    return view, now, prio, src, aint


@settings(max_examples=1500, deadline=None)
@given(cases())
def test_native_predicate_is_the_state_machines(case):
    view, now, prio, src, aint = case
    want = classify_advert(view, now, prio, int(ipaddress.ip_address(src)), aint)
    address = str(ipaddress.ip_address(view.address) if ":" not in src
                  else ipaddress.IPv6Address(view.address))
    got = fastka.native.vloop_classify(int(view.state), view.version, view.priority, view.preempt,
                                       view.master_adver_int_cs, address, view.preempt_delay, view.preempt_until,
                                       view.master_down_interval, now, prio, src, aint)
    assert got == int(want)
