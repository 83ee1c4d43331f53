"""API keys found active, remembered in this process for a moment (`GATEWAY_KEY_TRUST_S`), so that a key's every
request does not cost a database lookup. Keyed by the key's hash, like the database; only active keys are
remembered, so an unknown key is looked up every time. A key revoked through this process is forgotten at once; one
revoked through another gateway process is refused here within the trust period. Pure apart from the clock given."""

from dataclasses import dataclass

from gateway.access.principal import Principal


@dataclass(frozen=True)
class KnownKey:
    key_id: str
    principal: Principal
    trusted_until: float


class KnownKeys:
    def __init__(self, trust_s: float, max_keys: int = 10_000) -> None:
        self.trust_s = trust_s
        self.max_keys = max_keys
        self._by_hash: dict[str, KnownKey] = {}

    def get(self, digest: str, now: float) -> Principal | None:
        known = self._by_hash.get(digest)
        if known is None:
            return None
        if now >= known.trusted_until:
            del self._by_hash[digest]
            return None
        return known.principal

    def remember(self, digest: str, key_id: str, principal: Principal, now: float) -> None:
        if self.trust_s <= 0:
            return
        if len(self._by_hash) >= self.max_keys:
            self._by_hash.clear()  # forgetting only ever costs a lookup
        self._by_hash[digest] = KnownKey(key_id, principal, now + self.trust_s)

    def forget(self, key_id: str) -> None:
        for digest in [digest for digest, known in self._by_hash.items() if known.key_id == key_id]:
            del self._by_hash[digest]
