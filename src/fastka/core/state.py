"""Where fastka's signal-triggered state files go, and how they are written.

keepalived writes /tmp/keepalived.json on its JSON signal (SIGRTMIN+2) and
/tmp/keepalived.stats on SIGUSR2; fastka writes fastka.json (VRRP),
fastka_checkers.json (the checker child) and fastka.stats into FASTKA_STATE_DIR
(default /tmp), each atomically (a reader never sees half a file). `fastka status`
sends the signal and reads them.
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger("fastka")

STATE_DIR_ENV = "FASTKA_STATE_DIR"  # where the signal-triggered files go (default /tmp)
JSON_SIGNAL = signal.SIGRTMIN + 2  # keepalived 2.2.7's JSON signal number (fastka --signum=JSON)
VRRP_JSON = "fastka.json"
CHECKERS_JSON = "fastka_checkers.json"


def state_file(name: str) -> str:
    return os.path.join(os.environ.get(STATE_DIR_ENV, "/tmp"), name)


def write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        log.error("cannot write %s: %s", path, e.strerror)
