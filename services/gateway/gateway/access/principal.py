from dataclasses import dataclass
from typing import Literal

from gateway.access.permissions import Permission, Role

Kind = Literal["user", "key", "bootstrap"]
Via = Literal["cookie", "token", "api_key"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. `subject` is what the audit log records: a user id, a key id or `bootstrap`."""

    kind: Kind
    subject: str
    permissions: frozenset[Permission]
    via: Via
    rate_limit_per_s: float | None = None  # None: the gateway's default
    csrf_token: str | None = None  # cookie sessions only
    email: str | None = None  # users only
    role: Role | None = None  # users only

    @property
    def bucket(self) -> str:
        """Rate limits are per credential owner: a user's sessions and tokens share one bucket."""
        return f"{self.kind}:{self.subject}"
