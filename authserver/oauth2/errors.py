"""OAuth errors that Authlib does not define, one small class per RFC error code."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import OAuth2Error

__all__ = ["InvalidTargetError"]


class InvalidTargetError(OAuth2Error):
    """The requested resource is invalid, unknown, or not one the client may have tokens for.

    :rfc:`8707#section-2`
    """

    error = "invalid_target"
