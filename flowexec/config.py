"""Settings: every ``FLOWEXEC_*`` variable, read once into a frozen value."""

from __future__ import annotations

import ipaddress
import math
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from dataclasses import replace
from typing import Any

from flowexec.errors import FlowexecError
from flowexec.execid import Route
from flowexec.limits import Limits


class ConfigError(FlowexecError):
    """A ``FLOWEXEC_*`` variable that cannot be read."""

    code = 10500


def _pairs(text: str, sep: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, found, value = item.partition(sep)
        if not found or not key:
            raise ConfigError(f"expected key{sep}value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _names(text: str) -> frozenset[str]:
    return frozenset(filter(None, (p.strip() for p in text.split(","))))


def _networks(text: str) -> frozenset[str]:
    """Proxy addresses or networks (``10.0.0.5``, ``10.0.0.0/24``, ``::1``)."""
    names = _names(text)
    for name in names:
        ipaddress.ip_network(name, strict=False)  # ValueError names the bad entry
    return names


def _token_map(text: str) -> dict[str, frozenset[str]]:
    """``token=user1|user2,...`` (Linkis's form); ``*`` lets the token act as any user."""
    out: dict[str, frozenset[str]] = {}
    for token, users in _pairs(text, "=").items():
        names = frozenset(filter(None, (u.strip() for u in users.split("|"))))
        if not names:
            raise ConfigError("a token needs at least one user (or *)")
        out[token] = names
    return out


def _secret_pairs(sep: str) -> Any:
    """Like ``_pairs``, but an error never repeats the secret text."""

    def parse(text: str) -> dict[str, str]:
        try:
            return _pairs(text, sep)
        except ConfigError:
            raise ConfigError(f"expected comma-separated key{sep}value pairs (value not shown)") from None

    return parse


@dataclass(frozen=True)
class Settings:
    """flowexec's configuration; ``None`` URLs mean the embedded default."""

    home: str = "./.flowexec"
    database_url: str | None = None
    broker_url: str | None = None
    linkis_url: str | None = None
    linkis_token: str = "LINKIS-AUTH"
    linkis_user: str | None = None
    linkis_password: str | None = None
    linkis_legacy_execute: bool = False
    engine_versions: Mapping[str, str] = field(default_factory=dict)
    poll_first: float = 0.02
    poll_growth: float = 1.7
    poll_max: float = 5.0
    reconcile_every: float = 5.0
    queued_grace: float = 30.0
    submit_grace: float = 120.0
    linkis_deadline: float = 120.0
    token: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    #: True when ``token`` was made up at start (no ``FLOWEXEC_TOKEN``): print it, and with
    #: ``FLOWEXEC_TOKENS`` set, accept only those.
    token_generated: bool = True
    tokens: Mapping[str, frozenset[str]] = field(default_factory=dict)
    secret_key: str | None = None
    admins: frozenset[str] = frozenset()
    proxy_user_header: str | None = None
    trusted_proxies: frozenset[str] = frozenset()
    max_body: int = 1_048_576
    gateway_users: Mapping[str, str] = field(default_factory=lambda: {"hadoop": "hadoop"})
    gateway_tokens: Mapping[str, str] = field(default_factory=lambda: {"LINKIS-AUTH": "*"})
    gateway_simulate: frozenset[str] = frozenset()
    log_root: str | None = None
    visibility_timeout: int = 3600
    #: How often the embedded worker looks at the in-process (memory) broker's queues: a hop
    #: waits up to this long. 10 ms costs about 1.4% of a core while idle (``flowexec serve``);
    #: ``flowexec run``, which someone waits on and which ends with its flow, looks every 1 ms.
    memory_broker_poll: float = 0.01
    engine_caps: Mapping[str, int] = field(default_factory=dict)
    routes: Mapping[str, str] = field(default_factory=dict)
    metrics_port: int | None = None
    eureka_url: str | None = None
    eureka_app: str = "dss-flow-entrance-server-dev"
    eureka_host: str | None = None
    eureka_port: int | None = None
    trust_linkis_ticket: bool = False
    linkis_crypt_key: str = "bdp-for-server"
    dss_url: str | None = None
    dss_shared_tables: bool = False

    @property
    def route(self) -> Route | None:
        """The Eureka app and ``host:port`` execIDs name, once this instance registers."""
        if not self.eureka_url or not self.eureka_host or not self.eureka_port:
            return None
        return Route(self.eureka_app, f"{self.eureka_host}:{self.eureka_port}")

    @property
    def dss_mode(self) -> bool:
        """Dropped into a DSS: registered in its Eureka or reading flows from its workflow API."""
        return bool(self.eureka_url or self.dss_url)

    metrics_host: str = "127.0.0.1"
    max_nodes: int = 5_000
    max_subflow_depth: int = 8
    max_code_chars: int = 4_194_304
    max_page_size: int = 5_000

    @property
    def flow_limits(self) -> Limits:
        return Limits(max_nodes=self.max_nodes, max_depth=self.max_subflow_depth)

    @property
    def embedded(self) -> bool:
        """True when the broker is the in-process memory transport."""
        return self.broker_url is None or self.broker_url.startswith("memory://")

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{os.path.abspath(os.path.join(self.home, 'flowexec.db'))}"

    @property
    def flow_log_root(self) -> str:
        """Where flow logs are written: the configured root, else the local gateway's state folder
        (whose ``filesystem/openLog`` then serves them)."""
        return os.path.abspath(self.log_root or os.path.join(self.home, "gateway"))

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """Return a copy with the given fields replaced (unknown names are an error)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(unknown)}")
        if "token" in overrides:
            overrides = {"token_generated": False, **overrides}
        return replace(self, **overrides)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read ``FLOWEXEC_*`` variables; every unreadable one is named in one error."""
        values: dict[str, Any] = {}
        problems: list[str] = []
        for name, (attr, parse) in _VARIABLES.items():
            raw = environ.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[attr] = parse(raw)
            except (ValueError, ConfigError) as exc:
                problems.append(f"{name}: {exc}")
        if problems:
            raise ConfigError("invalid configuration: " + "; ".join(problems))
        if "token" in values:
            values["token_generated"] = False
        settings = cls(**values)
        if settings.poll_max < settings.poll_first:
            raise ConfigError("invalid configuration: need 0 < FLOWEXEC_POLL_FIRST <= FLOWEXEC_POLL_MAX")
        return settings


def _positive(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a positive number, got {raw}")
    return value


def _growth(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or not 1 <= value <= 10:
        raise ValueError(f"must be a number from 1 to 10, got {raw}")
    return value


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"must be true or false, got {raw}")
    return value in ("true", "1", "yes")


def _app_name(raw: str) -> str:
    value = raw.strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", value):
        raise ValueError(f"must be letters, digits and dashes (a Eureka app name), got {raw}")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError(f"must be a positive integer, got {raw}")
    return value


def _token_map_masked(raw: str) -> dict[str, frozenset[str]]:
    try:
        return _token_map(raw)
    except ConfigError:
        raise ConfigError("expected token=user1|user2,... (value not shown)") from None


_VARIABLES: dict[str, tuple[str, Any]] = {
    "FLOWEXEC_HOME": ("home", str),
    "FLOWEXEC_DATABASE_URL": ("database_url", str),
    "FLOWEXEC_BROKER_URL": ("broker_url", str),
    "FLOWEXEC_LINKIS_URL": ("linkis_url", str),
    "FLOWEXEC_LINKIS_TOKEN": ("linkis_token", str),
    "FLOWEXEC_LINKIS_USER": ("linkis_user", str),
    "FLOWEXEC_LINKIS_PASSWORD": ("linkis_password", str),
    "FLOWEXEC_LINKIS_LEGACY_EXECUTE": ("linkis_legacy_execute", lambda raw: _flag(raw)),
    "FLOWEXEC_ENGINE_VERSIONS": ("engine_versions", lambda raw: _pairs(raw, "=")),
    "FLOWEXEC_POLL_FIRST": ("poll_first", _positive),
    "FLOWEXEC_POLL_GROWTH": ("poll_growth", _growth),
    "FLOWEXEC_POLL_MAX": ("poll_max", _positive),
    "FLOWEXEC_RECONCILE_EVERY": ("reconcile_every", _positive),
    "FLOWEXEC_QUEUED_GRACE": ("queued_grace", _positive),
    "FLOWEXEC_SUBMIT_GRACE": ("submit_grace", _positive),
    "FLOWEXEC_LINKIS_DEADLINE": ("linkis_deadline", _positive),
    "FLOWEXEC_TOKEN": ("token", str),
    "FLOWEXEC_TOKENS": ("tokens", lambda raw: _token_map_masked(raw)),
    "FLOWEXEC_SECRET_KEY": ("secret_key", str),
    "FLOWEXEC_ADMINS": ("admins", _names),
    "FLOWEXEC_PROXY_USER_HEADER": ("proxy_user_header", str),
    "FLOWEXEC_TRUSTED_PROXIES": ("trusted_proxies", _networks),
    "FLOWEXEC_MAX_BODY": ("max_body", _positive_int),
    "FLOWEXEC_GATEWAY_USERS": ("gateway_users", _secret_pairs(":")),
    "FLOWEXEC_GATEWAY_TOKENS": ("gateway_tokens", _secret_pairs("=")),
    "FLOWEXEC_GATEWAY_SIMULATE": ("gateway_simulate", lambda raw: frozenset(n.lower() for n in _names(raw))),
    "FLOWEXEC_LOG_ROOT": ("log_root", str),
    "FLOWEXEC_VISIBILITY_TIMEOUT": ("visibility_timeout", _positive_int),
    "FLOWEXEC_ENGINE_CAPS": (
        "engine_caps",
        lambda raw: {k: _positive_int(v) for k, v in _pairs(raw, "=").items()},
    ),
    "FLOWEXEC_ROUTES": ("routes", lambda raw: _pairs(raw, "=")),
    "FLOWEXEC_METRICS_PORT": ("metrics_port", _positive_int),
    "FLOWEXEC_EUREKA_URL": ("eureka_url", str),
    "FLOWEXEC_EUREKA_APP": ("eureka_app", _app_name),
    "FLOWEXEC_EUREKA_HOST": ("eureka_host", str),
    "FLOWEXEC_EUREKA_PORT": ("eureka_port", _positive_int),
    "FLOWEXEC_TRUST_LINKIS_TICKET": ("trust_linkis_ticket", lambda raw: _flag(raw)),
    "FLOWEXEC_LINKIS_CRYPT_KEY": ("linkis_crypt_key", str),
    "FLOWEXEC_DSS_URL": ("dss_url", lambda raw: raw.rstrip("/")),
    "FLOWEXEC_DSS_SHARED_TABLES": ("dss_shared_tables", lambda raw: _flag(raw)),
    "FLOWEXEC_METRICS_HOST": ("metrics_host", str),
    "FLOWEXEC_MAX_NODES": ("max_nodes", _positive_int),
    "FLOWEXEC_MAX_SUBFLOW_DEPTH": ("max_subflow_depth", _positive_int),
    "FLOWEXEC_MAX_CODE_CHARS": ("max_code_chars", _positive_int),
    "FLOWEXEC_MAX_PAGE_SIZE": ("max_page_size", _positive_int),
}

#: The documented variables, for the README check.
VARIABLES = tuple(_VARIABLES)
