"""Plumbing shared by every Tally service. It knows nothing of any service's domain."""
