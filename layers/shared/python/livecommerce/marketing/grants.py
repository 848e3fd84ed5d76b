"""Coupons granted as prizes (an engagement lottery's coupon prize): one coupon of a
template, into the winner's coupon centre, once per `ref` whatever the retries."""
from __future__ import annotations

from livecommerce.marketing import repository
from livecommerce.marketing.service import _add_issue, _new_coupon, _terms_of, parse_time
from livecommerce.marketing.storage import CouponItem, PointsRefItem, TemplateItem, bind_all
from livecommerce.shared import problems
from livecommerce.shared.clock import utcnow
from livecommerce.shared.tx import Tx, TxCancelled


def grant_coupon(user_id: str, template_id: str, *, ref: str) -> str:
    """The coupon id granted for `ref` (the same one on a retry). Raises Conflict
    `template_exhausted` / `template_expired` / `claim_limit_reached`, NotFound `template_not_found`."""
    bind_all()
    # The ref marker shares the user's partition with points refs (its own sk prefix).
    marker_key = (f"USER#{user_id}", f"GRANTREF#{ref}")
    try:
        return PointsRefItem.get(*marker_key, consistent_read=True).entry_id
    except PointsRefItem.DoesNotExist:
        pass
    template = repository.get_template(template_id, consistent=True)
    if template is None:
        raise problems.NotFound("No such coupon template.", code="template_not_found")
    if template.valid_until and utcnow() >= parse_time(template.valid_until):
        raise problems.Conflict("That template's coupons have expired.", code="template_expired")
    coupon = _new_coupon(user_id, template_id, _terms_of(template), source="prize", drop_id=None)
    tx = Tx()
    tx.put("ref", PointsRefItem(*marker_key, entry_id=coupon.coupon_id), PointsRefItem.pk.does_not_exist())
    tx.update("template", TemplateItem(*TemplateItem.key(template_id)), [TemplateItem.issued.add(1)],
              TemplateItem.pk.exists() & (TemplateItem.issued < TemplateItem.total))
    _add_issue(tx, coupon, int(template.per_user_limit))
    # No CouponClaimed: that event is a drop's claim; the prize is told by engagement's LotteryDrawn.
    try:
        tx.commit()
    except TxCancelled as exc:
        if "ref" in exc:
            return PointsRefItem.get(*marker_key, consistent_read=True).entry_id
        if "template" in exc:
            raise problems.Conflict("No coupons of that template are left.", code="template_exhausted") from exc
        if "counter" in exc:
            raise problems.Conflict("The winner holds as many of these coupons as one viewer may.",
                                    code="claim_limit_reached") from exc
        raise
    return coupon.coupon_id


def has_shared(room_id: str, user_id: str) -> bool:
    return repository.get_sharer(room_id, user_id) is not None


__all__ = ["CouponItem", "grant_coupon", "has_shared"]
