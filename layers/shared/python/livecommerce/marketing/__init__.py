"""Marketing: coupon templates, drops and claims, share rewards, the points ledger."""
