"""Identity rules with no I/O: dev users of the local stage, who may follow whom, views."""
from __future__ import annotations

import re

from livecommerce.shared import problems

DEV_USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# Seeded roles for the local stage's dev logins (the README lists these users).
DEV_ROLES = {"operator-1": ["viewer", "operator"], "host-1": ["viewer", "host"], "host-2": ["viewer", "host"]}


def is_dev_user_id(code: str) -> bool:
    """A dev login's code is the user id: letters, digits, - and _, at most 40."""
    return DEV_USER_ID.match(code) is not None


def dev_roles(user_id: str) -> list[str]:
    """The roles a dev user gets when first created: the seeded ones, else viewer."""
    return list(DEV_ROLES.get(user_id, ["viewer"]))


def check_follow(viewer_id: str, host_id: str) -> None:
    if host_id == viewer_id:
        raise problems.BadRequest("Hosts cannot follow themselves.", code="self_follow")
