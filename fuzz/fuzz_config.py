"""Coverage-guided fuzzing (atheris) of the keepalived.conf front end: any text must
load (lex, tree, model, defaults, validation) and dump without an exception, every
diagnostic must carry a position, and a clean load must round-trip through the dump.

    .venv/bin/python fuzz/fuzz_config.py -runs=100000          # or -max_total_time=600
"""

import sys

import atheris

with atheris.instrument_imports():
    from fastka.config import dump, load_text


def one(raw: bytes) -> None:
    text = raw.decode("utf-8", "replace")
    r = load_text(text, filename="fuzz.conf", config_id="lb1")
    for d in r.diagnostics:
        assert d.pos is not None and d.pos.line >= 1 and d.pos.col >= 1, d
    out = dump(r.config)
    if not r.diagnostics.has_errors:
        again = load_text(out, filename="dump.conf")
        assert again.config == r.config, (text, out)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
