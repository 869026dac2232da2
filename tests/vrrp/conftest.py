"""Fixtures shared by the VRRP tests."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["native", "python"])
def loop_kind(request, monkeypatch):
    """The engine's loop: the native one (the default), or its Python twin."""
    import fastka

    if request.param == "native" and fastka.native is None:
        pytest.skip("no native core")
    monkeypatch.setenv("FASTKA_VRRP_LOOP", request.param)
    return request.param
