"""Use cases of the central service. Each function gets its session (and other collaborators) as
arguments, does one thing, and commits once, so a failure leaves nothing half-written."""
