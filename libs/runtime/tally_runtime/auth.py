"""Bearer API keys. Until the gateway issues keys, the bootstrap key is the only one."""

import hmac

from fastapi import Request
from pydantic import SecretStr

from tally_runtime.problems import Problem
from tally_runtime.settings import BootstrapKeySettings

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tally"'}


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "Send the API key as `Authorization: Bearer <key>`.", headers=CHALLENGE)
    return token.strip()


def check_key(request: Request, expected: SecretStr) -> None:
    if not hmac.compare_digest(bearer_token(request).encode(), expected.get_secret_value().encode()):
        raise Problem(401, "The API key is not valid.", headers=CHALLENGE)


def require_bootstrap_key(request: Request) -> None:
    """Route dependency: the caller must present the bootstrap key (`app.state.settings`)."""
    settings: BootstrapKeySettings = request.app.state.settings
    check_key(request, settings.bootstrap_api_key)
