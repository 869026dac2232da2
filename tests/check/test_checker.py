"""CheckerTask schedules against real servers: retries, alpha, transitions reported
once, recovery, dynamic weights, FILE_CHECK changes, many checkers side by side."""

from __future__ import annotations

import asyncio
import logging

from fastka.check.checker import CheckerTask, build_checkers, combined_weight, start_all, stop_all
from fastka.check.probes import ProbeEnv

from .servers import Http, listener, load_config, one_checker, pid_alive, port_of, script


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


class Events:
    def __init__(self):
        self.seen: list[tuple[bool, object]] = []

    def __call__(self, task: CheckerTask, up: bool) -> None:
        self.seen.append((up, task.weight))


async def until(cond, limit=10.0, step=0.01):
    """Wait for cond() (bounded: a test that hangs here fails)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(step)


def task_of(tmp_path, block, events, **kw):
    ch, rs, vs, config = one_checker(tmp_path, block, **kw)
    return CheckerTask(ch, rs, vs, events, env=ProbeEnv.of(config))


class Switch:
    """A TCP listener on a fixed port that can be stopped and started again."""

    def __init__(self):
        self.server = None
        self.port = 0

    async def on(self):
        async def handle(r, w):
            w.close()
        self.server = await asyncio.start_server(handle, "127.0.0.1", self.port, reuse_address=True)
        self.port = port_of(self.server)

    async def off(self):
        self.server.close()
        await self.server.wait_closed()


def test_retries_before_down_and_recovery(tmp_path, caplog):
    async def main():
        sw = Switch()
        await sw.on()
        ev = Events()
        t = task_of(tmp_path, "TCP_CHECK { connect_timeout 0.5 delay_loop 0.05 retry 2 delay_before_retry 0.05 "
                              "warmup 0 }", ev, port=sw.port)
        assert t.up and t.retry == 2 and t.delay_before_retry == 0.05 and t.warmup == 0
        t.start()
        await until(lambda: t.checks >= 5)
        assert ev.seen == [] and t.failures == 0  # up from the start: nothing to report
        await sw.off()
        await until(lambda: ev.seen)
        assert ev.seen == [(False, None)] and not t.up
        assert t.failures == 3, "one check and two retries before down"
        await sw.on()
        await until(lambda: len(ev.seen) == 2)
        assert ev.seen[1] == (True, None) and t.up
        await asyncio.sleep(0.2)
        assert len(ev.seen) == 2, "a steady state reports nothing"
        await t.stop()
        await sw.off()
    with caplog.at_level(logging.INFO, "fastka.check"):
        run(main())
    msgs = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("TCP_CHECK [127.0.0.1]:tcp:") and ": failed after 2 retries: connect to 127.0.0.1:"
               in m and m.endswith("refused") for m in msgs), msgs
    assert any(m.endswith(": success") and "of real server 127.0.0.1:" in m and "in virtual server 10.10.10.1 80"
               in m for m in msgs), msgs
    assert not any("retry 1 of 2" in m for m in msgs), "retries are not logged without log_all_failures"


def test_log_all_failures_logs_each_retry(tmp_path, caplog):
    async def main():
        sw = Switch()
        await sw.on()
        await sw.off()
        t = task_of(tmp_path, "TCP_CHECK { connect_timeout 0.5 delay_loop 0.05 retry 2 delay_before_retry 0.02 "
                              "warmup 0 log_all_failures }", Events(), port=sw.port)
        t.start()
        await until(lambda: not t.up)
        await t.stop()
    with caplog.at_level(logging.WARNING, "fastka.check"):
        run(main())
    msgs = [r.getMessage() for r in caplog.records]
    assert sum("check failed (retry" in m for m in msgs) == 2, msgs


def test_alpha_starts_down_and_one_success_brings_it_up(tmp_path):
    async def main():
        srv = await listener()
        ev = Events()
        t = task_of(tmp_path, "TCP_CHECK { connect_timeout 0.5 delay_loop 0.05 warmup 0 }", ev, port=port_of(srv),
                    rs_extra="alpha")
        assert not t.up
        t.start()
        await until(lambda: ev.seen)
        assert ev.seen == [(True, None)] and t.checks == 1
        await t.stop()
        srv.close()
    run(main())


def test_down_server_stays_down_quietly_without_retries(tmp_path):
    async def main():
        sw = Switch()
        await sw.on()
        await sw.off()
        ev = Events()
        t = task_of(tmp_path, "TCP_CHECK { connect_timeout 0.5 delay_loop 0.03 warmup 0 retry 3 }", ev,
                    port=sw.port, vs_extra="alpha")
        t.start()
        await until(lambda: t.failures >= 5)
        await t.stop()
        assert ev.seen == [] and not t.up and t.checks - t.failures <= 1  # (one cancelled in flight)
    run(main())


def test_http_recovery_one_url_per_delay_loop_unless_fast_recovery(tmp_path):
    async def main():
        srv = await Http().start()
        block = """HTTP_GET {{
            connect_timeout 0.5
            delay_loop 0.05
            warmup 0
            {fast}
            url {{ path /a }}
            url {{ path /b }}
            url {{ path /c }}
        }}"""
        for fast, attempts in (("", 3), ("fast_recovery", 1)):
            ev = Events()
            t = task_of(tmp_path, block.format(fast=fast), ev, port=srv.port, rs_extra="alpha")
            srv.requests.clear()
            t.start()
            await until(lambda t=t: t.up)
            assert t.checks == attempts, fast
            assert [q.split(b" ")[1] for q in srv.requests] == [b"/a", b"/b", b"/c"]
            await t.stop()
        await srv.stop()
    run(main())


def test_misc_dynamic_weight_changes_are_reported(tmp_path):
    async def main():
        code = tmp_path / "code"
        code.write_text("12")
        s = script(tmp_path, "w.sh", f'exit $(cat {code})')
        ev = Events()
        t = task_of(tmp_path, f'MISC_CHECK {{ misc_path "{s}"\n misc_dynamic\n delay_loop 0.05\n warmup 0 }}', ev,
                    port=80)
        assert t.retry == 0
        t.start()
        await until(lambda: ev.seen)
        assert ev.seen == [(True, 10)] and t.weight == 10  # up from the start: the new weight is the change
        code.write_text("0")  # "weight unchanged"
        await until(lambda: t.checks >= 4)
        checks = t.checks
        await until(lambda: t.checks >= checks + 2)
        assert ev.seen == [(True, 10)]
        code.write_text("1")
        await until(lambda: len(ev.seen) == 2)
        assert ev.seen[1] == (False, 10) and not t.up
        code.write_text("7")
        await until(lambda: len(ev.seen) == 3)
        assert ev.seen[2] == (True, 5)
        assert combined_weight(1, [t]) == 5
        await t.stop()
    run(main())


def test_stop_kills_a_running_script(tmp_path):
    async def main():
        pidfile = tmp_path / "pid"
        s = script(tmp_path, "slow.sh", f"echo $$ > {pidfile}; exec sleep 30")
        t = task_of(tmp_path, f'MISC_CHECK {{ misc_path "{s}"\n misc_timeout 20\n warmup 0 }}', Events(), port=80)
        t.start()
        await until(lambda: pidfile.exists() and pidfile.read_text().strip())
        pid = int(pidfile.read_text())
        assert pid_alive(pid)
        await t.stop()
        await until(lambda: not pid_alive(pid), limit=5)
    run(main())


def test_file_check_is_told_by_inotify(tmp_path):
    """FILE_CHECK follows its file (dynamic: the weight is real server weight + value x
    5; at or below 0 it fails). With polling an hour apart, only inotify can bring the
    changes in: written in place, replaced by a rename, removed, created again. Two checkers of one file in
    one directory share the watch, which goes when the last one stops."""
    from fastka.check.checker import _FileWatches

    async def main():
        f = tmp_path / "state"
        f.write_text("0")
        ch, rs, vs, config = one_checker(tmp_path, "FILE_CHECK { track_file tf\n dynamic }", port=80,
                                         top=f'track_file tf {{\n file "{f}"\n weight 5\n}}',
                                         rs_extra="weight 10")
        ev, ev2 = Events(), Events()
        t = CheckerTask(ch, rs, vs, ev, env=ProbeEnv.of(config), file_poll_interval=3600)
        t2 = CheckerTask(ch, rs, vs, ev2, env=ProbeEnv.of(config), file_poll_interval=3600)
        assert t.up and t.weight == 10  # read at construction: 10 + 0 x 5
        t.start()
        t2.start()
        watches = _FileWatches.of(asyncio.get_running_loop())
        assert watches.watch is not None and list(watches.dirs) == [str(tmp_path)]
        f.write_text("3\n")  # in place
        await until(lambda: ev.seen and ev2.seen)
        assert ev.seen == [(True, 25)] and ev2.seen == [(True, 25)]
        tmp = tmp_path / "state.new"
        tmp.write_text("-2\n")
        tmp.rename(f)  # replaced
        await until(lambda: len(ev.seen) == 2)
        assert ev.seen[1][0] is False and not t.up
        f.write_text("1\n")
        await until(lambda: len(ev.seen) == 3)
        assert ev.seen[2] == (True, 15)
        f.unlink()  # removed: the checker fails (keepalived: unreadable is down)
        await until(lambda: len(ev.seen) == 4)
        assert ev.seen[3][0] is False and "cannot read" in t.last.reason
        f.write_text("0\n")  # created again
        await until(lambda: len(ev.seen) == 5)
        assert ev.seen[4] == (True, 10)
        await t.stop()
        assert watches.watch is not None  # t2 still uses it
        await t2.stop()
        assert watches.watch is None and not watches.tell
    run(main())


def test_file_check_polls_a_file_it_cannot_watch(tmp_path):
    """A symbolic link (its target changes elsewhere) and a directory missing at start
    are polled."""
    from fastka.check.checker import _FileWatches

    async def main():
        real_dir = tmp_path / "real"
        real_dir.mkdir()
        target = real_dir / "state"
        target.write_text("0")
        link = tmp_path / "link"
        link.symlink_to(target)
        later = tmp_path / "later" / "state"
        for path in (link, later):
            ch, rs, vs, config = one_checker(tmp_path, "FILE_CHECK { track_file tf }", port=80,
                                             top=f'track_file tf {{\n file "{path}"\n weight 5\n}}',
                                             rs_extra="weight 10")
            ev = Events()
            t = CheckerTask(ch, rs, vs, ev, env=ProbeEnv.of(config), file_poll_interval=0.02)
            t.start()
            assert not t._watching and not _FileWatches.of(asyncio.get_running_loop()).tell
            if path == link:
                target.write_text("-3\n")
                await until(lambda ev=ev: ev.seen)
                assert ev.seen[0][0] is False and not t.up
            else:
                assert not t.up  # nothing to read yet
                later.parent.mkdir()
                later.write_text("1\n")
                await until(lambda ev=ev: ev.seen)
                assert ev.seen[0][0] is True and t.up
            await t.stop()
    run(main())


def test_a_hanging_server_does_not_delay_the_others(tmp_path):
    async def main():
        hang = await Http(hang=True).start()
        srv = await listener()
        port = port_of(srv)
        text = f"""
virtual_server 10.10.10.1 80 {{
    protocol TCP
    delay_loop 0.05
    warmup 0
    real_server 127.0.0.1 {hang.port} {{
        HTTP_GET {{
            connect_timeout 2
            url {{ path / }}
        }}
    }}
"""
        for i in range(50):
            text += f"""    real_server 127.0.{i // 250}.{i % 250 + 2} {port} {{
        TCP_CHECK {{
            connect_timeout 0.5
            connect_ip 127.0.0.1
        }}
    }}
"""
        config = load_config(tmp_path, text + "}\n")
        ev = Events()
        tasks = build_checkers(config, ev)
        assert len(tasks) == 51
        start_all(tasks)
        http = tasks[0]
        await until(lambda: http.checks >= 1)
        await until(lambda: all(t.checks >= 10 for t in tasks[1:]))
        # every TCP checker ran 10 cycles while the hanging server's first answer is still awaited
        assert http.last is None and http.checks == 1 and http.up
        await stop_all(tasks)
        assert not any(t.running for t in tasks)
        await hang.stop()
        srv.close()
    run(main())


def test_build_checkers_skips_what_cannot_run(tmp_path, caplog):
    text = """
track_file tf {
    file "/nonexistent/state"
}
virtual_server 10.10.10.1 80 {
    protocol TCP
    real_server 10.0.0.2 80 {
        TCP_CHECK {
        }
        HTTP_GET {
            url { path / }
        }
        FILE_CHECK {
            track_file tf
        }
    }
    real_server 10.0.0.3 80 {
        MISC_CHECK {
            misc_path "/bin/true"
        }
    }
}
virtual_server fwmark 5 {
    real_server 10.0.0.4 53 {
        DNS_CHECK {
            name a.LABEL.test
        }
        PING_CHECK {
        }
    }
}
""".replace("LABEL", "x" * 70)
    config = load_config(tmp_path, text)
    with caplog.at_level(logging.ERROR, "fastka.check"):
        tasks = build_checkers(config, Events())
    kinds = [t.kind for t in tasks]
    assert kinds == ["TCP_CHECK", "HTTP_GET", "FILE_CHECK", "MISC_CHECK", "PING_CHECK"]
    assert ("virtual server fwmark 5, real server 10.0.0.4:53: DNS_CHECK not run: bad DNS label in "
            "'a.xxxx" in caplog.text)
    f = tasks[2]
    assert not f.up and f.last is not None and f.last.reason.startswith("cannot read /nonexistent/state")
    assert tasks[0].describe() == ("TCP_CHECK [10.0.0.2]:tcp:80 of real server 10.0.0.2:80 "
                                   "in virtual server 10.10.10.1 80")
    assert tasks[0].delay_loop == 60 and tasks[0].retry == 1 and tasks[0].delay_before_retry == 1
    assert tasks[1].delay_before_retry == 3 and tasks[3].retry == 0


def test_a_failing_callback_is_logged_and_survived(tmp_path, caplog):
    async def main():
        srv = await listener()

        def bad(task, up):
            raise RuntimeError("integrator bug")
        t = task_of(tmp_path, "TCP_CHECK { connect_timeout 0.5 delay_loop 0.02 warmup 0 }", bad, port=port_of(srv),
                    rs_extra="alpha")
        t.start()
        await until(lambda: t.up)
        await until(lambda: t.checks >= 3)
        assert t.running
        await t.stop()
        srv.close()
    with caplog.at_level(logging.ERROR, "fastka.check"):
        run(main())
    assert "the on_change callback failed" in caplog.text
