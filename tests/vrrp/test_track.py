"""Tracking arithmetic (keepalived.conf(5)) and rise / fall, without processes."""

from fastka.vrrp.track import ScriptCheck, ScriptRunner, Tracked, effective


def test_weights_and_faults():
    t = [Tracked("script", "up_pos", 10, False), Tracked("script", "down_neg", -30, False),
         Tracked("script", "up_neg", -5, False), Tracked("script", "down_pos", 7, False)]
    state = {("script", "up_pos"): True, ("script", "down_neg"): False, ("script", "up_neg"): True,
             ("script", "down_pos"): False}
    assert effective(100, t, state) == (80, [])  # +10 (up, positive), -30 (down, negative)


def test_reverse_changes_the_sign_and_weight_0_faults():
    state = {("interface", "eth1"): True, ("script", "s"): False}
    assert effective(100, [Tracked("interface", "eth1", 10, True)], state) == (90, [])  # up: decreased
    assert effective(100, [Tracked("script", "s", -10, True)], state) == (110, [])  # down: increased
    assert effective(100, [Tracked("interface", "eth1", 0, False)], state) == (100, [])
    assert effective(100, [Tracked("interface", "eth1", 0, True)], state) == (100, ["interface eth1"])
    assert effective(100, [Tracked("script", "s", 0, False)], state) == (100, ["script s"])
    assert effective(100, [Tracked("script", "unknown", 0, False)], state) == (100, []), "unknown counts as up"


def test_rise_and_fall():
    c = ScriptCheck(name="c", argv=["/bin/true"], interval_s=1, timeout_s=1, rise=2, fall=3, user=None, group=None,
                    weight=0, reverse=False)
    runner = ScriptRunner.__new__(ScriptRunner)
    results = [runner._result(c, ok) for ok in (False, False, True, False, False, False, True, True)]
    # up; two failures are not three; a success resets; three failures: down; two successes: up
    assert results == [False, False, False, False, False, True, False, True]
    assert c.up
