"""The checkers' shared loop plumbing: timers in order, cancel, sockets once."""

from __future__ import annotations

import asyncio
import socket

from fastka.check.engine import EPOLLIN, engine


def test_timers_fire_in_order_and_cancel():
    async def main():
        eng = engine()
        assert engine() is eng
        fired = []
        eng.call_later(0.06, lambda: fired.append("c"))
        gone = eng.call_later(0.02, lambda: fired.append("cancelled"))

        def a():
            fired.append("a")
            eng.call_later(0.2, lambda: fired.append("d"))  # armed later than c, from inside a callback
        eng.call_later(0.01, a)
        eng.call_later(0.03, lambda: fired.append("b"))
        gone.cancel()
        await asyncio.sleep(0.1)
        assert fired == ["a", "b", "c"], "c is not held back by d, armed later from a callback"
        await asyncio.sleep(0.2)
        assert fired == ["a", "b", "c", "d"]
    asyncio.run(main())


def test_a_failing_callback_does_not_stop_the_others(caplog):
    async def main():
        eng = engine()
        fired = []

        def boom():
            raise RuntimeError("bad checker")
        eng.call_later(0.01, boom)
        eng.call_later(0.01, lambda: fired.append(1))
        await asyncio.sleep(0.05)
        assert fired == [1]
    asyncio.run(main())
    assert "checker timer callback failed" in caplog.text


def test_watch_is_one_shot_and_rewatch_arms_again():
    async def main():
        eng = engine()
        a, b = socket.socketpair()
        a.setblocking(False)
        got = []
        done = asyncio.get_running_loop().create_future()

        def readable(ev):
            got.append(a.recv(100))
            if len(got) < 2:
                eng.rewatch(a.fileno(), EPOLLIN, readable)
            else:
                done.set_result(None)
        eng.watch(a.fileno(), EPOLLIN, readable)
        b.send(b"one")
        await asyncio.sleep(0.05)
        assert got == [b"one"]
        b.send(b"two")
        await asyncio.wait_for(done, 5)
        assert got == [b"one", b"two"]
        b.send(b"three")  # no longer watched: nothing is called
        await asyncio.sleep(0.05)
        assert got == [b"one", b"two"]
        eng.forget(a.fileno())
        a.close()
        b.close()
    asyncio.run(main())
