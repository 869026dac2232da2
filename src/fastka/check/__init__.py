"""Health checkers and the IPVS manager (the checker subsystem, ``fastka -C``): probes
(one check attempt), CheckerTask (schedule and state), the pools, the IPVS manager."""
