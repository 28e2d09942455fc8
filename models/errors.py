"""Domain errors: each says, in plain words, which rule refused what."""

from __future__ import annotations

from datetime import timedelta


class DomainError(Exception):
    """A rule of the shop refused the request; nothing was changed."""


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the asker)."""


class InvalidTransition(DomainError):
    """An order cannot move from its phase to the one asked.

    `rule` names the rule that refused (final, on_hold, not_in_flow, awaiting_stock,
    stock_only, needs_stage, no_stage, backwards, held_already, not_held), so a conversation
    can word it in any language; `phase` and `target` are phase values.
    """

    def __init__(
        self, order_code: str, phase: str, target: str, reason: str, rule: str = "backwards"
    ) -> None:
        self.order_code = order_code
        self.phase = phase
        self.target = target
        self.reason = reason
        self.rule = rule
        super().__init__(f"{order_code} is {phase}: cannot move to {target} ({reason})")


class StockError(DomainError):
    """A stock change would break the stock rules."""


class InvalidPhone(DomainError):
    """A phone number that cannot be a real one."""


class InvalidStageSpec(DomainError):
    """A production stage list that cannot be read."""


class TooManyLinkCodes(DomainError):
    """A chat tried too many link codes that opened nothing; `wait` is how long it must wait."""

    def __init__(self, wait: timedelta) -> None:
        super().__init__(f"too many wrong link codes: wait {wait}")
        self.wait = wait
