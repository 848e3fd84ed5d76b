"""Identity rules with no I/O: dev users of the local stage, who may follow whom, views."""
from __future__ import annotations

import re
from typing import Iterable

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


# -- room assistants -----------------------------------------------------------------
#
# A host names assistants for one room or for all their rooms. What an assistant may do is a
# set of capabilities; prices, stock and payouts are not among them and cannot be granted.
ASSISTANT_CAPABILITIES = ("moderate", "list_products", "drop_coupons", "run_lotteries", "run_polls")
ALL_ROOMS = "*"
MAX_GRANTS_PER_ASSISTANT = 50


def grant_scope(room_id: str | None) -> str:
    """The scope a grant is stored under: a room id, or ALL_ROOMS for every room of the host."""
    return room_id if room_id is not None else ALL_ROOMS


def check_assistant(host_id: str, user_id: str) -> None:
    if host_id == user_id:
        raise problems.BadRequest("A host runs their own rooms; they need no assistant grant.",
                                  code="self_assistant")


def grant_allows(grants: Iterable[tuple[str, str, Iterable[str]]], *, room_id: str, host_id: str,
                 capability: str) -> bool:
    """Whether one of an assistant's grants (host_id, scope, capabilities) lets them do `capability`
    in `room_id` of `host_id`: a grant for that room, or for all rooms of that host. A grant names
    its host, so a grant "for all my rooms" of one host never reaches another host's room."""
    if capability not in ASSISTANT_CAPABILITIES:
        return False
    for grant_host, scope, capabilities in grants:
        if grant_host == host_id and scope in (room_id, ALL_ROOMS) and capability in set(capabilities):
            return True
    return False
