"""Tests for flowexec.config: FLOWEXEC_* variables read into frozen Settings."""

from __future__ import annotations

import dataclasses
import os

import pytest

from flowexec import config
from flowexec.config import ConfigError
from flowexec.config import Settings
from flowexec.errors import FlowexecError

#: The variables of DESIGN.md §1's table; their names are fixed.
DESIGN_VARIABLES = {
    "FLOWEXEC_HOME",
    "FLOWEXEC_DATABASE_URL",
    "FLOWEXEC_BROKER_URL",
    "FLOWEXEC_LINKIS_URL",
    "FLOWEXEC_LINKIS_TOKEN",
    "FLOWEXEC_LINKIS_USER",
    "FLOWEXEC_POLL_FIRST",
    "FLOWEXEC_POLL_MAX",
    "FLOWEXEC_RECONCILE_EVERY",
    "FLOWEXEC_TOKEN",
    "FLOWEXEC_ADMINS",
    "FLOWEXEC_GATEWAY_USERS",
    "FLOWEXEC_GATEWAY_TOKENS",
}


def test_design_variables_are_all_read():
    assert set(config.VARIABLES) >= DESIGN_VARIABLES
    assert tuple(config._VARIABLES) == config.VARIABLES
    assert all(name.startswith("FLOWEXEC_") for name in config.VARIABLES)
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert {attr for attr, _ in config._VARIABLES.values()} <= fields


def test_defaults_match_design():
    s = Settings.from_env({})
    assert s.home == "./.flowexec"
    assert s.database_url is None and s.broker_url is None and s.linkis_url is None
    assert s.linkis_token == "LINKIS-AUTH"
    assert s.linkis_user is None
    assert (s.poll_first, s.poll_growth, s.poll_max) == (0.02, 1.7, 5.0)
    assert s.reconcile_every == 5.0
    assert s.admins == frozenset()
    assert s.gateway_users == {"hadoop": "hadoop"}
    assert s.gateway_tokens == {"LINKIS-AUTH": "*"}
    assert s.embedded is True
    assert s.sqlalchemy_url == "sqlite:///" + os.path.abspath(os.path.join("./.flowexec", "flowexec.db"))


def test_default_token_is_random():
    a, b = Settings.from_env({}), Settings.from_env({})
    assert len(a.token) >= 16
    assert a.token != b.token


def test_unrelated_and_empty_variables_are_ignored():
    s = Settings.from_env(
        {
            "PATH": "/bin",
            "FLOWEXEC_POLL_FIRST": "",
            "FLOWEXEC_HOME": "",
            "flowexec_home": "/x",
        }
    )
    assert s.poll_first == 0.02 and s.home == "./.flowexec"


def test_default_mutable_fields_are_not_shared():
    a, b = Settings(), Settings()
    assert a.gateway_users == b.gateway_users
    assert a.gateway_users is not b.gateway_users


@pytest.mark.parametrize(
    ("name", "raw", "attr", "expected"),
    [
        ("FLOWEXEC_HOME", "/var/lib/flowexec", "home", "/var/lib/flowexec"),
        (
            "FLOWEXEC_DATABASE_URL",
            "mysql+pymysql://root@127.0.0.1:3306/test",
            "database_url",
            "mysql+pymysql://root@127.0.0.1:3306/test",
        ),
        (
            "FLOWEXEC_BROKER_URL",
            "redis://127.0.0.1:6379/0",
            "broker_url",
            "redis://127.0.0.1:6379/0",
        ),
        (
            "FLOWEXEC_LINKIS_URL",
            "http://127.0.0.1:9001",
            "linkis_url",
            "http://127.0.0.1:9001",
        ),
        ("FLOWEXEC_LINKIS_TOKEN", "BML-AUTH", "linkis_token", "BML-AUTH"),
        ("FLOWEXEC_LINKIS_USER", "hadoop", "linkis_user", "hadoop"),
        ("FLOWEXEC_POLL_FIRST", "0.25", "poll_first", 0.25),
        ("FLOWEXEC_POLL_MAX", "30", "poll_max", 30.0),
        ("FLOWEXEC_POLL_GROWTH", "1.25", "poll_growth", 1.25),
        ("FLOWEXEC_RECONCILE_EVERY", "1.5", "reconcile_every", 1.5),
        ("FLOWEXEC_QUEUED_GRACE", "12", "queued_grace", 12.0),
        ("FLOWEXEC_SUBMIT_GRACE", "90", "submit_grace", 90.0),
        ("FLOWEXEC_LINKIS_DEADLINE", "30", "linkis_deadline", 30.0),
        ("FLOWEXEC_ENGINE_CAPS", "spark=4, shell=10", "engine_caps", {"spark": 4, "shell": 10}),
        ("FLOWEXEC_ROUTES", "spark=flowexec.nodes.spark", "routes", {"spark": "flowexec.nodes.spark"}),
        ("FLOWEXEC_LINKIS_PASSWORD", "s3cret", "linkis_password", "s3cret"),
        ("FLOWEXEC_LINKIS_LEGACY_EXECUTE", "true", "linkis_legacy_execute", True),
        ("FLOWEXEC_ENGINE_VERSIONS", "spark=2.4.3", "engine_versions", {"spark": "2.4.3"}),
        ("FLOWEXEC_TOKEN", "s3cret", "token", "s3cret"),
        ("FLOWEXEC_SECRET_KEY", "k3y", "secret_key", "k3y"),
        (
            "FLOWEXEC_ADMINS",
            "alice, bob,,alice ",
            "admins",
            frozenset({"alice", "bob"}),
        ),
        (
            "FLOWEXEC_PROXY_USER_HEADER",
            "X-Proxy-User",
            "proxy_user_header",
            "X-Proxy-User",
        ),
        ("FLOWEXEC_MAX_BODY", "2048", "max_body", 2048),
        (
            "FLOWEXEC_GATEWAY_USERS",
            "alice:pw1, bob : p:w2",
            "gateway_users",
            {"alice": "pw1", "bob": "p:w2"},
        ),
        (
            "FLOWEXEC_GATEWAY_TOKENS",
            "LINKIS-AUTH=*,T2=alice,",
            "gateway_tokens",
            {"LINKIS-AUTH": "*", "T2": "alice"},
        ),
        ("FLOWEXEC_VISIBILITY_TIMEOUT", "7200", "visibility_timeout", 7200),
        ("FLOWEXEC_METRICS_PORT", "9101", "metrics_port", 9101),
        (
            "FLOWEXEC_GATEWAY_SIMULATE",
            "AppConn, spark.py,",
            "gateway_simulate",
            frozenset({"appconn", "spark.py"}),
        ),
        ("FLOWEXEC_LOG_ROOT", "/var/log/flowexec", "log_root", "/var/log/flowexec"),
        (
            "FLOWEXEC_EUREKA_URL",
            "http://10.0.0.5:20303/eureka/",
            "eureka_url",
            "http://10.0.0.5:20303/eureka/",
        ),
        (
            "FLOWEXEC_EUREKA_APP",
            "DSS-Flow-Entrance-Server-Prod",
            "eureka_app",
            "dss-flow-entrance-server-prod",
        ),
        ("FLOWEXEC_EUREKA_HOST", "10.0.0.7", "eureka_host", "10.0.0.7"),
        ("FLOWEXEC_EUREKA_PORT", "9006", "eureka_port", 9006),
        ("FLOWEXEC_TRUST_LINKIS_TICKET", "true", "trust_linkis_ticket", True),
        ("FLOWEXEC_LINKIS_CRYPT_KEY", "my-key", "linkis_crypt_key", "my-key"),
        ("FLOWEXEC_DSS_URL", "http://10.0.0.5:9001/", "dss_url", "http://10.0.0.5:9001"),
        ("FLOWEXEC_DSS_SHARED_TABLES", "yes", "dss_shared_tables", True),
        ("FLOWEXEC_METRICS_HOST", "0.0.0.0", "metrics_host", "0.0.0.0"),
        (
            "FLOWEXEC_TOKENS",
            "t1=alice|bob, t2=*",
            "tokens",
            {"t1": frozenset({"alice", "bob"}), "t2": frozenset({"*"})},
        ),
        (
            "FLOWEXEC_TRUSTED_PROXIES",
            "10.0.0.5, 192.168.0.0/24",
            "trusted_proxies",
            frozenset({"10.0.0.5", "192.168.0.0/24"}),
        ),
        ("FLOWEXEC_MAX_NODES", "100", "max_nodes", 100),
        ("FLOWEXEC_MAX_SUBFLOW_DEPTH", "3", "max_subflow_depth", 3),
        ("FLOWEXEC_MAX_CODE_CHARS", "1000", "max_code_chars", 1000),
        ("FLOWEXEC_MAX_PAGE_SIZE", "100", "max_page_size", 100),
    ],
)
def test_each_variable_is_parsed(name, raw, attr, expected):
    s = Settings.from_env({name: raw})
    value = getattr(s, attr)
    assert value == expected
    assert type(value) is type(expected)
    # Nothing else moved.
    default = Settings.from_env({})
    for f in dataclasses.fields(Settings):
        if f.name not in (attr, "token", "token_generated"):
            assert getattr(s, f.name) == getattr(default, f.name), f.name


def test_every_variable_has_a_parse_case():
    (mark,) = [m for m in test_each_variable_is_parsed.pytestmark if m.name == "parametrize"]
    assert {case[0] for case in mark.args[1]} == set(config.VARIABLES)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("FLOWEXEC_POLL_FIRST", "fast"),
        ("FLOWEXEC_POLL_FIRST", "0"),
        ("FLOWEXEC_POLL_GROWTH", "0.9"),
        ("FLOWEXEC_POLL_GROWTH", "nan"),
        ("FLOWEXEC_POLL_MAX", "-1"),
        ("FLOWEXEC_RECONCILE_EVERY", "5s"),
        ("FLOWEXEC_QUEUED_GRACE", "-0.1"),
        ("FLOWEXEC_SUBMIT_GRACE", "0"),
        ("FLOWEXEC_LINKIS_DEADLINE", "0"),
        ("FLOWEXEC_ENGINE_CAPS", "spark=0"),
        ("FLOWEXEC_ROUTES", "spark"),
        ("FLOWEXEC_LINKIS_LEGACY_EXECUTE", "maybe"),
        ("FLOWEXEC_ENGINE_VERSIONS", "spark"),
        ("FLOWEXEC_MAX_BODY", "1MB"),
        ("FLOWEXEC_MAX_BODY", "0"),
        ("FLOWEXEC_VISIBILITY_TIMEOUT", "one hour"),
        ("FLOWEXEC_METRICS_PORT", "http"),
        ("FLOWEXEC_EUREKA_APP", "dss_flow.entrance"),
        ("FLOWEXEC_EUREKA_PORT", "0"),
        ("FLOWEXEC_TRUST_LINKIS_TICKET", "sure"),
        ("FLOWEXEC_DSS_SHARED_TABLES", "2"),
        ("FLOWEXEC_GATEWAY_USERS", "hadoop"),
        ("FLOWEXEC_GATEWAY_USERS", ":pw"),
        ("FLOWEXEC_GATEWAY_TOKENS", "LINKIS-AUTH:*"),
    ],
)
def test_bad_value_is_a_config_error_naming_the_variable(name, raw):
    with pytest.raises(ConfigError) as info:
        Settings.from_env({name: raw})
    assert info.value.message.startswith("invalid configuration: ")
    assert f"{name}: " in info.value.message
    assert isinstance(info.value, FlowexecError)


def test_several_bad_values_are_reported_together():
    env = {
        "FLOWEXEC_POLL_FIRST": "abc",
        "FLOWEXEC_MAX_BODY": "-5",
        "FLOWEXEC_GATEWAY_USERS": "nocolon",
        "FLOWEXEC_RECONCILE_EVERY": "0",
        "FLOWEXEC_HOME": "/ok",
    }
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    message = info.value.message
    bad = [
        "FLOWEXEC_POLL_FIRST",
        "FLOWEXEC_MAX_BODY",
        "FLOWEXEC_GATEWAY_USERS",
        "FLOWEXEC_RECONCILE_EVERY",
    ]
    for name in bad:
        assert message.count(f"{name}: ") == 1, name
    assert "FLOWEXEC_HOME" not in message
    assert "nocolon" not in message  # a password list is never echoed
    assert message.count("; ") == len(bad) - 1


@pytest.mark.parametrize(
    "env",
    [
        {"FLOWEXEC_POLL_FIRST": "10"},
        {"FLOWEXEC_POLL_MAX": "0.01"},
        {"FLOWEXEC_POLL_FIRST": "3", "FLOWEXEC_POLL_MAX": "2"},
    ],
)
def test_poll_first_above_poll_max_is_an_error(env):
    with pytest.raises(ConfigError, match="FLOWEXEC_POLL_FIRST <= FLOWEXEC_POLL_MAX"):
        Settings.from_env(env)


def test_poll_first_equal_to_poll_max_is_fine():
    s = Settings.from_env({"FLOWEXEC_POLL_FIRST": "2", "FLOWEXEC_POLL_MAX": "2"})
    assert s.poll_first == s.poll_max == 2.0


@pytest.mark.parametrize("name", ["FLOWEXEC_MAX_BODY", "FLOWEXEC_VISIBILITY_TIMEOUT"])
def test_fraction_below_one_is_not_a_positive_integer(name):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: "0.5"})


@pytest.mark.parametrize("name", ["FLOWEXEC_POLL_FIRST", "FLOWEXEC_RECONCILE_EVERY"])
def test_nan_is_not_positive(name):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: "nan"})


# --- derived properties and overrides --------------------------------------------------------


@pytest.mark.parametrize(
    ("broker", "embedded"),
    [
        (None, True),
        ("memory://", True),
        ("memory://localhost/", True),
        ("redis://127.0.0.1:6379/0", False),
    ],
)
def test_embedded(broker, embedded):
    assert Settings(broker_url=broker).embedded is embedded


def test_sqlalchemy_url():
    assert Settings(database_url="mysql+pymysql://u@h/db").sqlalchemy_url == "mysql+pymysql://u@h/db"
    assert Settings(home="/srv/fx").sqlalchemy_url == "sqlite:////srv/fx/flowexec.db"


def test_with_overrides_replaces_fields_and_keeps_the_original():
    base = Settings.from_env({"FLOWEXEC_TOKEN": "t"})
    new = base.with_overrides({"poll_first": 0.01, "broker_url": "memory://"})
    assert (new.poll_first, new.broker_url, new.token) == (0.01, "memory://", "t")
    assert (base.poll_first, base.broker_url) == (0.02, None)
    assert base.with_overrides({}) == base


def test_with_overrides_rejects_unknown_names():
    with pytest.raises(ConfigError) as info:
        Settings().with_overrides({"poll_minimum": 1, "poll_max": 2, "FLOWEXEC_HOME": "/x"})
    assert info.value.message == "unknown settings: FLOWEXEC_HOME, poll_minimum"


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().poll_first = 1.0  # type: ignore[misc]


def test_the_route_names_the_registered_instance_only_with_eureka():
    assert Settings(eureka_host="10.0.0.7", eureka_port=9006).route is None
    registered = Settings(eureka_url="http://e/eureka/", eureka_host="10.0.0.7", eureka_port=9006)
    assert registered.route is not None
    assert (registered.route.application, registered.route.instance) == (
        "dss-flow-entrance-server-dev",
        "10.0.0.7:9006",
    )
    assert registered.dss_mode and Settings(dss_url="http://d").dss_mode and not Settings().dss_mode


def test_a_configured_token_is_not_generated():
    assert Settings.from_env({}).token_generated
    assert not Settings.from_env({"FLOWEXEC_TOKEN": "abc"}).token_generated
    assert not Settings.from_env({}).with_overrides({"token": "abc"}).token_generated


@pytest.mark.parametrize(
    "name,raw",
    [
        ("FLOWEXEC_GATEWAY_USERS", "alice=hunter2secret"),
        ("FLOWEXEC_GATEWAY_TOKENS", "hunter2secret"),
        ("FLOWEXEC_TOKENS", "hunter2secret"),
    ],
)
def test_config_errors_never_echo_secret_values(name, raw):
    with pytest.raises(ConfigError) as err:
        Settings.from_env({name: raw})
    assert name in err.value.message
    assert "hunter2secret" not in err.value.message


def test_trusted_proxies_must_be_addresses():
    with pytest.raises(ConfigError, match="FLOWEXEC_TRUSTED_PROXIES"):
        Settings.from_env({"FLOWEXEC_TRUSTED_PROXIES": "proxy.example"})
