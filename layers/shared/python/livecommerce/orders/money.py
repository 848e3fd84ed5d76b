"""Money as the payment providers write it (Alipay's decimal yuan strings); integer fen everywhere else.
Standard library only: the orders face re-exports these."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation


def yuan_text(fen: int) -> str:
    """Fen as Alipay's decimal yuan string: 1234 -> '12.34'."""
    if fen < 0:
        raise ValueError("negative amount")
    return f"{fen // 100}.{fen % 100:02d}"


def fen_from_yuan_text(text: str) -> int | None:
    """Alipay's '12.34' as 1234 fen; None for anything that is not an exact amount in fen."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    if not value.is_finite() or value < 0:
        return None
    fen = value * 100
    if fen != fen.to_integral_value():
        return None
    return int(fen)
