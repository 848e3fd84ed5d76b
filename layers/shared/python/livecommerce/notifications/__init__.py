"""Notifications: subscribe messages (WeChat, Alipay), SMS, send records, reservation reminders.

The public face. Notice kinds and their templates are in `templates` (pure); other contexts
start a notice by emitting the event its state machine listens to, not by calling here.
"""
from __future__ import annotations

from livecommerce.notifications.templates import KINDS, REMINDER_KINDS

__all__ = ["KINDS", "REMINDER_KINDS"]
