"""Reading a request body without trusting its size (the service and the witness)."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request

from cvid.errors import InputError, RequestTooLargeError


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused as soon as it is known to exceed ``limit`` bytes.

    Raises:
        RequestTooLargeError: the declared or the received length is over ``limit``.
        InputError: the client went away, or was cut off, before the body's end.
    """
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise RequestTooLargeError(f"the request body is over {limit} bytes")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise RequestTooLargeError(f"the request body is over {limit} bytes")
    except ClientDisconnect as e:
        raise InputError("the request body ended before it was complete") from e
    return bytes(body)
