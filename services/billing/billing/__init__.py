"""Tally billing: the system of record for usage and what each customer owes."""
