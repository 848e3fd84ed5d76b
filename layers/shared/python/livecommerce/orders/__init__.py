"""Orders: orders with stock holds and expiry, flash sales with sharded stock."""
