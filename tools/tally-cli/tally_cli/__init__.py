"""`tally`: what an operator runs against a live Tally (see docs/operations.md)."""
