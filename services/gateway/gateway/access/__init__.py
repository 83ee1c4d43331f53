"""Who is calling (a user's session or token, an API key, the bootstrap key) and what they may do."""
