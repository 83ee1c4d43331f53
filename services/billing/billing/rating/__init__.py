"""Rating: pure pricing, billing-period and proration arithmetic in integer minor units."""
