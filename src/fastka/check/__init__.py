"""Health checkers: probes (one check attempt), CheckerTask (schedule and state)."""
