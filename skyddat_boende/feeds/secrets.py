"""Feed credentials at rest: encrypted (Fernet: AES-128-CBC with HMAC-SHA256) with a key from the
environment (SB_FEED_SECRET_KEY), so a copy of the database alone does not reveal them. They are
decrypted only to make a request, and never returned by the API or written to a log."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class NoKey(RuntimeError):
    """The service has no SB_FEED_SECRET_KEY, so it cannot keep a feed secret."""


class Vault:
    def __init__(self, key: str | None) -> None:
        self._fernet = Fernet(key.encode()) if key else None

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    def seal(self, secret: str) -> bytes:
        if self._fernet is None:
            raise NoKey("set SB_FEED_SECRET_KEY to store feed secrets")
        return self._fernet.encrypt(secret.encode())

    def open(self, sealed: bytes) -> str:
        """The secret; NoKey without a key, InvalidToken (a RuntimeError here) when sealed with another key."""
        if self._fernet is None:
            raise NoKey("set SB_FEED_SECRET_KEY to use feed secrets")
        try:
            return self._fernet.decrypt(bytes(sealed)).decode()
        except InvalidToken:
            raise NoKey("the feed secret was sealed with another SB_FEED_SECRET_KEY") from None
