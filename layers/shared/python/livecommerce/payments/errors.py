"""What can go wrong with a payment provider, in terms the service maps to answers."""
from __future__ import annotations


class ProviderError(Exception):
    """A provider call failed. `retryable`: try again later; `misconfigured`: our keys or ids are wrong;
    `already_paid`: the provider says the order is paid (its notification will tell us)."""

    def __init__(self, provider: str, code: str, message: str, *, retryable: bool = False,
                 misconfigured: bool = False, already_paid: bool = False) -> None:
        super().__init__(f"{provider} {code}: {message}")
        self.provider = provider
        self.code = code
        self.message = message
        self.retryable = retryable
        self.misconfigured = misconfigured
        self.already_paid = already_paid


class NotificationRejected(Exception):
    """A notification that must not be trusted: forged, stale, replayed from elsewhere, malformed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
