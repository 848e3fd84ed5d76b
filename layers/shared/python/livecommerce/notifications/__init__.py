"""Notifications: subscribe messages (WeChat, Alipay), SMS, send records, reservation reminders.

The public face. Notice kinds and their templates are in `templates` (pure); other contexts
start a notice by emitting the event its state machine listens to, not by calling here.
"""
from __future__ import annotations

from livecommerce.notifications.templates import (
    CHANNELS,
    KINDS,
    REMINDER_KINDS,
    TemplateIdsMissing,
    require_template_ids,
    template_env_var,
)

__all__ = ["CHANNELS", "KINDS", "REMINDER_KINDS", "TemplateIdsMissing", "require_template_ids", "template_env_var"]
