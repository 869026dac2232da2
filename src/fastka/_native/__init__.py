"""Compiled extensions (Cython over csrc/). Import through fastka.wire, never directly:
fastka.backend decides whether these or the pure-Python twins in fastka.pure are used."""
