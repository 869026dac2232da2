"""Health checkers and the IPVS manager (the checker subsystem, ``fastka -C``)."""
