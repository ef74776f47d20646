"""Settings, read once from the environment. Every variable is listed in README."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec
import platformdirs

Environment = Literal["production", "development"]

REPO_SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
REPO_DOCS_DIR = Path(__file__).resolve().parent.parent / "api_docs"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str | None = None
    data_dir: Path = Path(platformdirs.user_data_dir("skyddat-boende"))
    sql_dir: Path = REPO_SQL_DIR
    docs_dir: Path = REPO_DOCS_DIR
    """The partner documentation served as pages under /schema (the container sets /app/api_docs)."""
    environment: Environment = "production"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    max_body_bytes: int = 256 * 1024
    db_pool_max: int = 10
    db_pool_wait_seconds: int = 10
    """How long a request waits for a pooled connection before it is answered 503 with Retry-After."""
    embedded_database: Literal["auto", "never"] = "auto"
    trusted_issuers_json: str = "[]"
    rate_limit_per_minute: int = 600
    """Calls per minute per client (issuer + client id, and the person for people), across all processes."""
    rate_limit_per_address_per_minute: int = 3000
    """Calls per minute per client address (an IPv6 /64), counted before the token is read."""
    jwks_min_refresh_seconds: int = 30
    stale_after_hours: int = 24
    offer_hold_minutes: int = 120
    acute_offer_hold_minutes: int = 30
    onward_offer_hold_days: int = 5
    """How long an onward offer holds its apartment: time for the household to view it (issue 24)."""
    sweep_interval_seconds: int = 30
    batch_interval_minutes: int = 15
    max_open_requests: int = 500
    retention_days: int = 365
    """Closed (withdrawn or moved-out) cases are erased this many days after closing; aggregates remain."""
    run_jobs: bool = False
    """Run the periodic jobs (batch, expiry sweep, webhooks, housekeeping) inside `serve` too; otherwise
    only `skyddat-boende worker` runs them."""
    session_secret: str | None = None
    """64 hex characters (32 bytes): encrypts the web session cookie and signs CSRF tokens. None: a random
    key per process (sessions end when it restarts; set it when more than one process serves)."""
    session_minutes: int = 480
    public_url: str | None = None
    """The service's external base URL (for the login redirect and Secure cookies); None: the request's."""
    web_login_issuer: str | None = None
    """The trusted issuer people log in with on the web pages; None: the first trusted issuer."""
    web_client_id: str = "skyddat-boende-web"
    feed_secret_key: str | None = None
    """A Fernet key (`skyddat-boende feed new-key`) encrypting pull feeds' secrets at rest; None: feeds
    without secrets only."""
    feed_poll_seconds: int = 15
    """How often a worker looks for feeds due to be fetched (each feed has its own interval); 0: never."""
    audit_chain_seconds: int = 1
    """How often a worker moves committed audit events into the hash chain (sql/0038)."""
    live_poll_seconds: int = 10
    """How often an open page (a social worker's request, a shelter's offers) asks whether it changed."""

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @property
    def dev_keys_dir(self) -> Path:
        return self.data_dir / "dev-issuer"

    @property
    def embedded_pgdata(self) -> Path:
        return self.data_dir / "pgdata"


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def load_settings(env: Mapping[str, str] = os.environ) -> Settings:
    environment = env.get("SB_ENV", "production")
    if environment not in ("production", "development"):
        raise ConfigError(f"SB_ENV must be 'production' or 'development', got {environment!r}")
    embedded = env.get("SB_EMBEDDED_DATABASE", "auto")
    if embedded not in ("auto", "never"):
        raise ConfigError(f"SB_EMBEDDED_DATABASE must be 'auto' or 'never', got {embedded!r}")
    if embedded == "never" and not env.get("DATABASE_URL"):
        raise ConfigError("DATABASE_URL is not set and SB_EMBEDDED_DATABASE=never forbids the embedded database")
    defaults = Settings()
    return Settings(
        database_url=env.get("DATABASE_URL") or None,
        data_dir=Path(env["SB_DATA_DIR"]) if env.get("SB_DATA_DIR") else defaults.data_dir,
        sql_dir=Path(env["SB_SQL_DIR"]) if env.get("SB_SQL_DIR") else defaults.sql_dir,
        docs_dir=Path(env["SB_DOCS_DIR"]) if env.get("SB_DOCS_DIR") else defaults.docs_dir,
        environment=environment,
        host=env.get("SB_HOST", defaults.host),
        port=_int(env, "SB_PORT", defaults.port, 1, 65535),
        log_level=env.get("SB_LOG_LEVEL", defaults.log_level).upper(),
        max_body_bytes=_int(env, "SB_MAX_BODY_BYTES", defaults.max_body_bytes, 1024, 16 * 1024 * 1024),
        db_pool_max=_int(env, "SB_DB_POOL_MAX", defaults.db_pool_max, 1, 200),
        db_pool_wait_seconds=_int(env, "SB_DB_POOL_WAIT_SECONDS", defaults.db_pool_wait_seconds, 1, 120),
        embedded_database=embedded,
        trusted_issuers_json=_trusted_issuers(env),
        offer_hold_minutes=_int(env, "SB_OFFER_HOLD_MINUTES", defaults.offer_hold_minutes, 1, 24 * 60),
        acute_offer_hold_minutes=_int(env, "SB_ACUTE_OFFER_HOLD_MINUTES", defaults.acute_offer_hold_minutes, 1, 24 * 60),
        onward_offer_hold_days=_int(env, "SB_ONWARD_OFFER_HOLD_DAYS", defaults.onward_offer_hold_days, 1, 30),
        sweep_interval_seconds=_int(env, "SB_SWEEP_INTERVAL_SECONDS", defaults.sweep_interval_seconds, 1, 3600),
        max_open_requests=_int(env, "SB_MAX_OPEN_REQUESTS", defaults.max_open_requests, 1, 100_000),
        retention_days=_int(env, "SB_RETENTION_DAYS", defaults.retention_days, 30, 3650),
        run_jobs=_flag(env, "SB_RUN_JOBS"),
        batch_interval_minutes=_int(env, "SB_BATCH_INTERVAL_MINUTES", defaults.batch_interval_minutes, 0, 24 * 60),
        stale_after_hours=_int(env, "SB_STALE_AFTER_HOURS", defaults.stale_after_hours, 1, 24 * 30),
        jwks_min_refresh_seconds=_int(env, "SB_JWKS_MIN_REFRESH_SECONDS", defaults.jwks_min_refresh_seconds, 0, 3600),
        rate_limit_per_minute=_int(env, "SB_RATE_LIMIT_PER_MINUTE", defaults.rate_limit_per_minute, 1, 1_000_000),
        rate_limit_per_address_per_minute=_int(env, "SB_RATE_LIMIT_PER_ADDRESS_PER_MINUTE",
                                               defaults.rate_limit_per_address_per_minute, 1, 1_000_000),
        session_secret=_session_secret(env),
        session_minutes=_int(env, "SB_SESSION_MINUTES", defaults.session_minutes, 5, 24 * 60),
        public_url=_public_url(env),
        web_login_issuer=env.get("SB_WEB_LOGIN_ISSUER") or None,
        web_client_id=env.get("SB_WEB_CLIENT_ID") or defaults.web_client_id,
        feed_secret_key=env.get("SB_FEED_SECRET_KEY") or None,
        feed_poll_seconds=_int(env, "SB_FEED_POLL_SECONDS", defaults.feed_poll_seconds, 0, 3600),
        audit_chain_seconds=_int(env, "SB_AUDIT_CHAIN_SECONDS", defaults.audit_chain_seconds, 1, 60),
        live_poll_seconds=_int(env, "SB_LIVE_POLL_SECONDS", defaults.live_poll_seconds, 1, 300),
    )


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name) or "0"
    if raw not in ("0", "1"):
        raise ConfigError(f"{name} must be 0 or 1, got {raw!r}")
    return raw == "1"


def _session_secret(env: Mapping[str, str]) -> str | None:
    raw = env.get("SB_SESSION_SECRET") or None
    if raw is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", raw):
        raise ConfigError("SB_SESSION_SECRET must be 64 hex characters (32 random bytes, e.g. `openssl rand -hex 32`)")
    return raw


def _public_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("SB_PUBLIC_URL") or None
    if raw is not None and not re.fullmatch(r"https?://[^/?#\s]+", raw.rstrip("/")):
        raise ConfigError(f"SB_PUBLIC_URL must be a base URL like https://skyddat-boende.example, got {raw!r}")
    return raw.rstrip("/") if raw else None


def _trusted_issuers(env: Mapping[str, str]) -> str:
    if env.get("SB_TRUSTED_ISSUERS") and env.get("SB_TRUSTED_ISSUERS_FILE"):
        raise ConfigError("set SB_TRUSTED_ISSUERS or SB_TRUSTED_ISSUERS_FILE, not both")
    if path := env.get("SB_TRUSTED_ISSUERS_FILE"):
        try:
            return Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"SB_TRUSTED_ISSUERS_FILE cannot be read: {exc.strerror}") from None
    return env.get("SB_TRUSTED_ISSUERS") or "[]"
