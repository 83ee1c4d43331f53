"""The gateway refuses to start on a missing or weak admin password or bootstrap key."""

from typing import Any

import pytest
from gateway.config import GatewaySettings
from pydantic import ValidationError

GOOD: dict[str, Any] = {
    "database_url": "postgresql://u:p@127.0.0.1/db",
    "TALLY_BOOTSTRAP_API_KEY": "tk_0123456789abcdefghijkl",
    "TALLY_ADMIN_EMAIL": "admin@example.com",
    "TALLY_ADMIN_PASSWORD": "a-long-random-password",
}


def settings(**changes: Any) -> GatewaySettings:
    return GatewaySettings(**(GOOD | changes))


def test_good_settings_pass() -> None:
    assert settings().service_key() == GOOD["TALLY_BOOTSTRAP_API_KEY"]


@pytest.mark.parametrize("password", ["", "changeme", "password", "admin", "short-pw", "Password"])
def test_a_placeholder_or_short_admin_password_is_refused(password: str) -> None:
    with pytest.raises(ValidationError, match="TALLY_ADMIN_PASSWORD"):
        settings(TALLY_ADMIN_PASSWORD=password)


def test_an_admin_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TALLY_ADMIN_PASSWORD", raising=False)
    without = {k: v for k, v in GOOD.items() if k != "TALLY_ADMIN_PASSWORD"}
    with pytest.raises(ValidationError, match="TALLY_ADMIN_PASSWORD"):
        GatewaySettings(**without)


def test_an_enabled_bootstrap_key_must_be_real() -> None:
    with pytest.raises(ValidationError, match="TALLY_BOOTSTRAP_API_KEY"):
        settings(TALLY_BOOTSTRAP_API_KEY="changeme")


def test_a_disabled_bootstrap_key_may_be_absent_if_the_gateway_has_a_key_for_services() -> None:
    disabled = settings(TALLY_BOOTSTRAP_API_KEY="", bootstrap_key_enabled=False, upstream_api_key="tk_live_" + "x" * 40)
    assert disabled.service_key() == "tk_live_" + "x" * 40
    with pytest.raises(ValidationError, match="GATEWAY_UPSTREAM_API_KEY"):
        settings(TALLY_BOOTSTRAP_API_KEY="", bootstrap_key_enabled=False)


def test_panel_timeouts_default_and_override() -> None:
    tuned = settings(dashboard_panel_timeout_s=1.5, dashboard_panel_timeouts={"kpis": 0.5})
    assert (tuned.panel_timeout("kpis"), tuned.panel_timeout("alerts")) == (0.5, 1.5)
