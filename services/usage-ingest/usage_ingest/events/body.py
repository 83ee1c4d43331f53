"""Reading a request body with a hard size limit, gzip included, so no request can exhaust memory."""

import zlib

from fastapi import Request
from tally_runtime.bodies import BodyTooLarge, read_capped


class BadEncoding(Exception):
    """400: the body is not what its Content-Encoding says."""


class UnsupportedEncoding(Exception):
    """415: a Content-Encoding other than gzip."""


async def read_body(request: Request, limit: int) -> bytes:
    """The body, decompressed when `Content-Encoding: gzip`; BodyTooLarge past `limit` bytes either way."""
    body = await read_capped(request, limit)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        return gunzip(body, limit)
    if encoding != "identity":
        raise UnsupportedEncoding(f"Content-Encoding {encoding!r} is not supported; send gzip or nothing.")
    return body


def gunzip(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise BadEncoding(f"the body is not valid gzip: {exc}") from None
    if len(body) > limit or inflater.unconsumed_tail:
        raise BodyTooLarge
    if not inflater.eof:
        raise BadEncoding("the gzip body is truncated")
    return body
