"""Forward one request to an upstream service and relay its answer, byte for byte."""

from collections.abc import Mapping

import httpx
from fastapi import Request, Response
from tally_runtime.problems import Problem

# Hop-by-hop and connection-specific headers are not forwarded (RFC 9110 section 7.6.1).
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
RETRY_AFTER_S = "5"


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}


async def forward(request: Request, client: httpx.AsyncClient, base_url: str, service: str) -> Response:
    url = httpx.URL(base_url).join(request.url.path).copy_with(query=request.url.query.encode() or None)
    try:
        upstream = await client.request(
            request.method, url, content=await request.body(), headers=_headers(request.headers)
        )
    except httpx.TimeoutException:
        raise Problem(504, f"The {service} service did not answer in time.") from None
    except httpx.TransportError:
        raise Problem(503, f"The {service} service is unavailable.", headers={"Retry-After": RETRY_AFTER_S}) from None
    return Response(upstream.content, status_code=upstream.status_code, headers=_headers(upstream.headers))
