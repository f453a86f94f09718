"""The request class every route receives: a JSON body that is not UTF-8 is the caller's
fault, refused with 400 naming the byte, never a 500 from deep inside the decoder."""

from __future__ import annotations

from typing import Any

from litestar import Request

from gateway.errors import GatewayError


class UndecodableBody(GatewayError):
    title = "Bad request"
    slug = "body-not-utf-8"


class GatewayRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            return await super().json()
        except UnicodeDecodeError as exc:
            # The decoder's offset is within the string it was reading; name the body's.
            body = await self.body()
            try:
                body.decode("utf-8")
                at = exc.start
            except UnicodeDecodeError as whole:
                at = whole.start
            raise UndecodableBody(
                f"the body is not valid UTF-8 at byte {at}", field="body"
            ) from None


__all__ = ["GatewayRequest", "UndecodableBody"]
