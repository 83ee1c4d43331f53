"""Records every write (POST, PUT, PATCH, DELETE) under /v1 once it has been answered: who (the caller the route
authenticated, or nobody), the method, the path (never the query or the body), the status, the request id."""

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tally_runtime.ids import new_id

from gateway.access.dependencies import WRITES
from gateway.access.principal import Principal
from gateway.audit import repository
from gateway.audit.models import AuditEntry
from gateway.requests import request_id_of

log = logging.getLogger(__name__)


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording)
        finally:
            await self._record(scope, status)

    async def _record(self, scope: Scope, status: int) -> None:
        principal: Principal | None = scope.get("state", {}).get("principal")
        client = scope.get("client")
        entry = AuditEntry(
            id=new_id("aud"),
            actor_kind=None if principal is None else principal.kind,
            actor_id=None if principal is None else principal.subject,
            method=scope["method"],
            path=scope["path"][:2000],
            status=status,
            request_id=request_id_of(scope),
            client_ip=None if client is None else str(client[0])[:64],
        )
        try:
            async with scope["app"].state.sessions() as session, session.begin():
                await repository.insert_entry(session, entry)
        except Exception:
            log.exception("could not record a write in the audit log", extra={"request_id": entry.request_id})
