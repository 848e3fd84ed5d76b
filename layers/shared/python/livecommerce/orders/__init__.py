"""Orders: orders with stock holds and expiry, flash sales with sharded stock.

Also home of the commerce plumbing the other commerce contexts share:
`txn` (labelled DynamoDB transactions), `idempotency` (Idempotency-Key
records written in the same transaction as the effect) and `outboxes`
(sharded transactional outboxes).
"""
