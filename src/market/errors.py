"""Domain errors every package may raise; the web layer maps each kind to an HTTP status.

Packages below ``market.web`` must not know about HTTP, but users must still get a precise
answer: a missing stall is a 404, a duplicate stall code a 409, a bad field a 422 that names
the field. These classes carry that meaning without importing any web code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["ConflictError", "FieldError", "InvalidInputError", "MarketError", "NotFoundError", "UnavailableError"]


class MarketError(Exception):
    """Base of the errors a user can act on; ``str(error)`` is a readable sentence."""

    title = "Request cannot be completed"

    def __init__(self, detail: str, *, extra: Mapping[str, object] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, object] = dict(extra or {})


class NotFoundError(MarketError):
    """The thing asked for does not exist (HTTP 404)."""

    title = "Not found"


class ConflictError(MarketError):
    """The request clashes with what is stored, e.g. a duplicate stall code (HTTP 409)."""

    title = "Conflict"


class UnavailableError(MarketError):
    """A dependency (the database) is down; the caller should retry later (HTTP 503)."""

    title = "Service unavailable"


class FieldError:
    """One invalid field: where it is, and the rule it breaks."""

    __slots__ = ("field", "message")

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message

    def as_dict(self) -> dict[str, str]:
        """The wire form used in problem documents and CLI reports."""
        return {"field": self.field, "message": self.message}

    def __repr__(self) -> str:
        return f"FieldError({self.field!r}, {self.message!r})"


class InvalidInputError(MarketError):
    """One or more fields are invalid (HTTP 422); ``errors`` names each field."""

    title = "Invalid input"

    def __init__(self, errors: Sequence[FieldError], detail: str | None = None) -> None:
        self.errors = list(errors)
        if detail is None:
            detail = "; ".join(f"{e.field}: {e.message}" for e in self.errors) or "invalid input"
        super().__init__(detail, extra={"errors": [e.as_dict() for e in self.errors]})
