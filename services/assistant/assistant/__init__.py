"""Tally assistant: Plain-English answers and executive reports over Tally's data."""
