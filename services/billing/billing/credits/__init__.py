"""Credits: typed prepaid grants of units that cover a meter's usage before any overage (first to expire, first
spent), and a monetary balance in the customer's currency that is applied to invoices."""
