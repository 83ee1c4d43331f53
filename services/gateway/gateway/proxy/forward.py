"""Forward one request to an upstream service and stream its answer back (status, headers and bytes as sent, so
`Accept: text/csv` exports and compressed bodies pass through)."""

from collections.abc import Mapping

import httpx
from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask
from tally_runtime.problems import Problem

from gateway.requests import REQUEST_ID, request_id_of

# Hop-by-hop and connection-specific headers are not forwarded (RFC 9110 section 7.6.1), nor the caller's
# credentials: the services behind the gateway see the gateway's own key.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
CREDENTIALS = frozenset({"authorization", "cookie", "x-csrf-token", REQUEST_ID.lower()})
RETRY_AFTER_S = "5"


def _headers(headers: Mapping[str, str], dropped: frozenset[str] = HOP_BY_HOP) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in dropped}


def upstream_headers(request: Request, service_key: str) -> dict[str, str]:
    """The caller's headers (traceparent included) without its credentials, with the gateway's key and the request
    id; the instrumented client replaces traceparent with its own span's when tracing records."""
    headers = _headers(request.headers, HOP_BY_HOP | CREDENTIALS)
    headers["Authorization"] = f"Bearer {service_key}"
    headers[REQUEST_ID] = request_id_of(request.scope)
    return headers


async def forward(
    request: Request, client: httpx.AsyncClient, base_url: str, service: str, service_key: str
) -> Response:
    # The path and query exactly as received (still percent-encoded): decoding and re-encoding them could change
    # what the service sees, and fails on bytes a URL cannot hold.
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    query: bytes = request.scope.get("query_string", b"")
    url = httpx.URL(base_url).copy_with(raw_path=raw_path + (b"?" + query if query else b""))
    outgoing = client.build_request(
        request.method, url, content=await request.body(), headers=upstream_headers(request, service_key)
    )
    try:
        upstream = await client.send(outgoing, stream=True)
    except httpx.TimeoutException:
        raise Problem(504, f"The {service} service did not answer in time.") from None
    except httpx.TransportError:
        raise Problem(503, f"The {service} service is unavailable.", headers={"Retry-After": RETRY_AFTER_S}) from None
    return StreamingResponse(
        upstream.aiter_raw(),
        status_code=upstream.status_code,
        headers=_headers(upstream.headers),
        background=BackgroundTask(upstream.aclose),
    )
