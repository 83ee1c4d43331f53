"""A synthetic SaaS history (signups with seasonality, a plan mix, trials, upgrades, downgrades, churn, failed
payments, reactivations) written through billing's own use cases at the moments they happen: for demos and
benchmarks. `python -m billing.demo --customers 500 --months 24`."""
