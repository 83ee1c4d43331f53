"""People who use Tally through the gateway, each with one role."""
