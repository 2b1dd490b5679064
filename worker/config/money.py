"""What a forfeited session costs: an amount in a currency, as the practitioner writes it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_name
from pydantic import Field, model_validator

from worker.config.fields import Section
from worker.model import Money

FEE_FORM = 'fee = { amount = "60.00", currency = "GBP" } (or "60.00 GBP" in the client CSV)'


class Fee(Section):
    """A fee: `{ amount = "60.00", currency = "GBP" }`; the amount is never negative."""

    amount: Decimal = Field(description="How much, as text to keep it exact: '60.00'.")
    currency: str = Field(description="The ISO 4217 code: 'GBP', 'EUR', 'USD', 'MXN'.")

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, value: object) -> object:
        if isinstance(value, str):  # "60.00 GBP", as a CSV cell holds it
            parts = value.split()
            value = dict(zip(("amount", "currency"), parts, strict=False)) if parts else {}
        if not isinstance(value, dict):
            raise ValueError(f"{value!r} is not a fee; write {FEE_FORM}")
        amount, currency = value.get("amount"), value.get("currency")
        if amount is None or not str(currency or "").strip():
            raise ValueError(f"a fee needs an amount and a currency; write {FEE_FORM}")
        try:
            number = Decimal(str(amount).strip())
        except InvalidOperation:
            raise ValueError(f"{amount!r} is not an amount; write {FEE_FORM}") from None
        if not number.is_finite() or number < 0:
            raise ValueError(
                f"a fee cannot be {amount!r}: the amount is 0 or more; write {FEE_FORM}"
            )
        code = str(currency).strip().upper()
        if len(code) != 3 or get_currency_name(code, locale="en") == code:
            raise ValueError(
                f"{currency!r} is not a currency; use its ISO 4217 code such as 'GBP', "
                f"'EUR', 'USD' or 'MXN': {FEE_FORM}"
            )
        return {**value, "amount": number, "currency": code}

    def money(self) -> Money:
        return Money(self.amount, self.currency)
