"""What each role and each key scope may do. Pure: no I/O.

Routes need one permission each: `read` (GET), `query` (analytics queries and the assistant, which read but are
POSTs), `ingest` (send usage) or `admin` (every change). Viewers read; analysts read and query; admins do all.
Keys: `read` is a viewer, `admin` an admin without `ingest`, `ingest` only sends usage (no scope implies another).
"""

from collections.abc import Iterable
from typing import Literal, get_args

Permission = Literal["read", "query", "ingest", "admin"]
Role = Literal["admin", "analyst", "viewer"]
ROLES: tuple[Role, ...] = get_args(Role)

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "viewer": frozenset({"read"}),
    "analyst": frozenset({"read", "query"}),
    "admin": frozenset({"read", "query", "ingest", "admin"}),
}
SCOPE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "read": frozenset({"read"}),
    "admin": frozenset({"read", "query", "admin"}),
    "ingest": frozenset({"ingest"}),
}
EVERYTHING: frozenset[Permission] = frozenset(get_args(Permission))


def of_role(role: str) -> frozenset[Permission]:
    return ROLE_PERMISSIONS.get(role, frozenset())


def of_scopes(scopes: Iterable[str]) -> frozenset[Permission]:
    return frozenset(permission for scope in scopes for permission in SCOPE_PERMISSIONS.get(scope, ()))
