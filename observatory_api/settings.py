"""Settings of the API: one pydantic-settings class, environment prefix ``SOCOBS_``.

The store and the registry default to ``$SOCOBS_VAR/store`` and ``$SOCOBS_VAR/regions``
(``SOCOBS_VAR`` defaults to ``var``), the same places ``socobs`` writes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the API reads from its environment (``SOCOBS_STORE``, ``SOCOBS_CORS_ORIGINS`` ...)."""

    model_config = SettingsConfigDict(env_prefix="SOCOBS_", extra="ignore")

    var: Path = Field(Path("var"), description="Working data folder of socobs (store, regions) for defaults")
    store: str = Field("var/store", description="Icechunk repository: local path or s3://bucket/prefix")
    registry: Path = Field(Path("var/regions"), description="Registered region sets (socobs regions add)")
    poll_seconds: float = Field(2.0, ge=0.05, le=3600, description="How often the branch tip is checked")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (JSON list)")
    admin_api_key: SecretStr | None = Field(
        None, description="Key for POST /v1/admin/refresh; unset: disabled"
    )
    max_request_bytes: int = Field(1_000_000, ge=1_000, description="Largest request body accepted")
    max_aoi_km2: float = Field(250_000.0, gt=0, description="Largest polygon POST /v1/aoi/assess accepts")
    max_aoi_vertices: int = Field(20_000, ge=4, description="Most vertices of an assessed polygon")
    tile_cache: int = Field(4096, ge=0, description="Rendered tiles kept in memory per process")
    public_url: str = Field(
        "",
        description="Public base URL of the API (e.g. https://soc.example.org) for TileJSON and STAC links; "
        "default: a trusted proxy's X-Forwarded-Proto/-Host, else the address the server listens on "
        "(never the request's Host header)",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Peer IP addresses whose X-Forwarded-For/-Proto/-Host headers are believed (JSON list)",
    )
    public_store_url: str = Field(
        "", description="Where clients can read the store, for STAC asset hrefs; default: hrefs name no path"
    )
    log_level: str | None = Field(
        None, description="debug, info, warning or error; default: socobs-api --log-level (info)"
    )
    client_requests_per_minute: float = Field(
        30.0, gt=0, description="Expensive requests (AOI assessment, region geometries) per client per minute"
    )
    aoi_concurrency: int = Field(2, ge=1, description="AOI assessments computed at once (more: 429)")

    @model_validator(mode="before")
    @classmethod
    def _under_var(cls, data: Any) -> Any:
        """Store and registry default to VAR/store and VAR/regions, as for socobs."""
        if isinstance(data, dict) and data.get("var"):
            var = Path(str(data["var"]))
            data.setdefault("store", str(var / "store"))
            data.setdefault("registry", var / "regions")
        return data

    @field_validator("admin_api_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: object) -> object:
        return None if v == "" else v  # SOCOBS_ADMIN_API_KEY= (empty) disables, as in .env files

    @model_validator(mode="after")
    def _safe(self) -> Settings:
        key = self.admin_api_key.get_secret_value() if self.admin_api_key else None
        if key is not None and len(key) < 16:
            raise ValueError(
                "SOCOBS_ADMIN_API_KEY: expected at least 16 characters, got "
                f"{len(key)}. Generate one with `python -c 'import secrets; print(secrets.token_urlsafe(24))'`."
            )
        if key is not None and "*" in self.cors_origins:
            raise ValueError(
                "SOCOBS_CORS_ORIGINS contains '*' while SOCOBS_ADMIN_API_KEY is set: any web page could "
                "then drive the admin endpoint from a browser. List the dashboard origins explicitly."
            )
        return self
