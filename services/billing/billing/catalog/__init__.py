"""Meters (and, later, plans): what is measured and how it is priced."""
