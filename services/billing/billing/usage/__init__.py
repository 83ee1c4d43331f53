"""Usage: recording usage events once each, and per-customer, per-meter totals."""
