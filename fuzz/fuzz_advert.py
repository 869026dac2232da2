"""Coverage-guided fuzzing (atheris) of the VRRP advert parser and the IP AH parser
(VRRPv2 auth type 2): the native core and its pure-Python twin must agree on every
input, and neither may fail other than with AdvertError.

    .venv/bin/python fuzz/fuzz_advert.py -runs=100000          # or -max_total_time=600
"""

import sys

import atheris

with atheris.instrument_imports():
    import fastka
    from fastka.pure import advert as twin
    from fastka.pure import ah as twin_ah
    from fastka.wire import AdvertError

native = fastka.native

PEERS = [("192.0.2.1", "224.0.0.18"), ("192.0.2.1", "192.0.2.2"), ("fe80::1", "ff02::12")]


def parse(impl, data, src, dst, ttl, auth):
    try:
        return impl.parse_advert(data, src=src, dst=dst, ttl=ttl, auth_data=auth)
    except AdvertError as e:
        return ("error", e.reason)


def parse_ah(impl, data, key, last_seq, unicast):
    try:
        return impl.parse_ah_packet(data, auth_data=key, last_seq=last_seq, unicast=unicast)
    except AdvertError as e:
        return ("error", e.reason)


def one(raw: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(raw)
    if fdp.ConsumeIntInRange(0, 3) == 0:  # a quarter of the runs: an IPv4 datagram for the AH parser
        key = [b"secret12", b"k"][fdp.ConsumeIntInRange(0, 1)]
        last_seq = [None, 0, 1000][fdp.ConsumeIntInRange(0, 2)]
        unicast = fdp.ConsumeBool()
        data = fdp.ConsumeBytes(fdp.remaining_bytes())
        want = parse_ah(twin_ah, data, key, last_seq, unicast)
        if native is not None:
            got = parse_ah(native, data, key, last_seq, unicast)
            assert got == want, (data.hex(), key, last_seq, unicast, got, want)
        return
    src, dst = PEERS[fdp.ConsumeIntInRange(0, len(PEERS) - 1)]
    ttl = 255 if fdp.ConsumeBool() else fdp.ConsumeIntInRange(0, 255)
    auth = [None, b"", b"secret"][fdp.ConsumeIntInRange(0, 2)]
    data = fdp.ConsumeBytes(fdp.remaining_bytes())
    want = parse(twin, data, src, dst, ttl, auth)
    if native is not None:
        got = parse(native, data, src, dst, ttl, auth)
        assert got == want, (data.hex(), src, dst, ttl, auth, got, want)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
