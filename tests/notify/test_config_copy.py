"""The Alertmanager config a replay runs: receivers pointed at alertdrill's, every duration divided."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.errors import ConfigurationError
from harness.notify import Integration, drill_config, read_alertmanager_config

REPO = Path(__file__).resolve().parents[2]
AMTOOL = Path("/usr/bin/amtool")
SECRETS = "/etc/alertmanager/secrets"


class FakeUrls:
    """A ReceiverUrls whose every URL names what it stands for."""

    smtp_smarthost = "127.0.0.1:2525"

    def pagerduty_url(self, receiver: str, index: int) -> str:
        return f"http://127.0.0.1:9999/pagerduty/{receiver}/{index}"

    def slack_url(self, receiver: str, index: int) -> str:
        return f"http://127.0.0.1:9999/slack/{receiver}/{index}"

    def webhook_url(self, receiver: str, index: int, shadow: bool = False) -> str:
        return f"http://127.0.0.1:9999/{'shadow' if shadow else 'webhook'}/{receiver}/{index}"

    def smtp_hello(self, receiver: str, index: int) -> str:
        return f"{receiver}.{index}.alertdrill.invalid"


URLS = FakeUrls()


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """A copy of config/alertmanager.yml."""
    path = tmp_path / "alertmanager.yml"
    shutil.copy(REPO / "config" / "alertmanager.yml", path)
    return path


def small(*receivers: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A config routing everything to the first receiver."""
    return {"route": {"receiver": receivers[0]["name"]}, "receivers": list(receivers), **top}


def receiver_of(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in config["receivers"] if r["name"] == name)


def without_durations(route: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in route.items() if k not in ("group_wait", "group_interval", "repeat_interval")}
    if "routes" in route:
        out["routes"] = [without_durations(r) for r in route["routes"]]
    return out


# --- durations -------------------------------------------------------------------------------


def test_every_route_duration_of_the_shipped_config_is_divided(shipped: Path) -> None:
    copied = drill_config(read_alertmanager_config(shipped), shipped, 60, URLS).config
    route = copied["route"]
    critical, warning, info = route["routes"]
    assert [(r.get("group_wait"), r.get("group_interval"), r.get("repeat_interval")) for r in route["routes"]] == [
        ("167ms", "1s", "1m"),  # 10s/60 = 166.7 ms, whole ms; 1m/60; 1h/60
        ("500ms", "5s", "4m"),
        ("5s", "1m", "2h"),  # 5m, 1h, 120h
    ]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("500ms", "5s", "4m")
    # the team routes set none: they inherit their parent's, divided already
    for child in critical["routes"] + warning["routes"]:
        assert not {"group_wait", "group_interval", "repeat_interval"} & child.keys()
    assert "routes" not in info
    assert copied["global"]["resolve_timeout"] == "5s"


def test_root_defaults_are_written_divided_when_absent_and_deep_routes_divided() -> None:
    config = small(
        {"name": "r", "webhook_configs": [{"url": "http://x"}]},
        route={
            "receiver": "r",
            "routes": [{"receiver": "r", "routes": [{"receiver": "r", "routes": [{"group_interval": "20s"}]}]}],
        },
    )
    copied = drill_config(config, Path("/cfg/am.yml"), 10, URLS).config
    root = copied["route"]
    # Alertmanager's defaults 30s / 5m / 4h, divided by 10
    assert (root["group_wait"], root["group_interval"], root["repeat_interval"]) == ("3s", "30s", "24m")
    child = root["routes"][0]
    assert not {"group_wait", "group_interval", "repeat_interval"} & child.keys()
    deepest = child["routes"][0]["routes"][0]
    assert deepest == {"group_interval": "2s"}
    assert copied["global"]["resolve_timeout"] == "30s"  # the default 5m, divided


@pytest.mark.parametrize(
    ("value", "speed", "expected"),
    [
        ("30s", 1, "30s"),
        ("1h30m", 1, "1h30m"),
        ("1h30m", 2, "45m"),
        ("4h", 7, "2057143ms"),  # 14400/7 s = 2057.142857 s: whole ms
        ("90s", 60, "1500ms"),
        ("30s", 100_000, "1ms"),  # 0.3 ms: at least 1 ms
        ("0s", 10, "1ms"),
        ("1d", 24, "1h"),
        ("120h", 0.5, "240h"),  # a slower replay multiplies
        (45, 3, "15s"),  # a number is seconds
    ],
)
def test_divided_durations_are_whole_milliseconds(value: object, speed: float, expected: str) -> None:
    config = small({"name": "r"}, route={"receiver": "r", "group_wait": value})
    assert drill_config(config, Path("/cfg/am.yml"), speed, URLS).config["route"]["group_wait"] == expected


def test_global_resolve_timeout_is_divided() -> None:
    config = small({"name": "r"}, **{"global": {"resolve_timeout": "10m"}})
    assert drill_config(config, Path("/a.yml"), 120, URLS).config["global"]["resolve_timeout"] == "5s"


@pytest.mark.parametrize("speed", [0, -1])
def test_speed_must_be_positive(speed: float) -> None:
    with pytest.raises(ConfigurationError, match="positive"):
        drill_config(small({"name": "r"}), Path("/a.yml"), speed, URLS)


def test_a_bad_duration_names_the_field() -> None:
    config = small({"name": "r"}, route={"receiver": "r", "routes": [{"repeat_interval": "soon"}]})
    with pytest.raises(ConfigurationError, match="route repeat_interval") as info:
        drill_config(config, Path("/a.yml"), 10, URLS)
    assert "'soon'" in str(info.value)


# --- receivers -------------------------------------------------------------------------------


def test_the_shipped_receivers_point_at_the_fake_urls(shipped: Path) -> None:
    drill = drill_config(read_alertmanager_config(shipped), shipped, 60, URLS)
    copied = drill.config
    (page,) = receiver_of(copied, "pagerduty-devops")["pagerduty_configs"]
    assert page["url"] == "http://127.0.0.1:9999/pagerduty/pagerduty-devops/0"
    assert "routing_key_file" not in page and page["routing_key"].startswith("alertdrill")
    assert page["severity"] == "critical"  # message settings stay
    assert receiver_of(copied, "pagerduty-devops")["webhook_configs"] == [
        {"url": "http://127.0.0.1:9999/shadow/pagerduty-devops/0", "send_resolved": True}
    ]
    assert receiver_of(copied, "chat-devops")["webhook_configs"] == [
        {"url": "http://127.0.0.1:9999/webhook/chat-devops/0", "send_resolved": True},
        {"url": "http://127.0.0.1:9999/shadow/chat-devops/0", "send_resolved": True},
    ]
    tickets = receiver_of(copied, "tickets")
    (mail,) = tickets["email_configs"]
    assert mail == {
        "to": "ml-platform-tickets@example.com",
        "send_resolved": False,
        "smarthost": "127.0.0.1:2525",
        "require_tls": False,
        "hello": "tickets.0.alertdrill.invalid",
        "headers": {"X-Alertdrill-Receiver": "tickets", "X-Alertdrill-Index": "0"},
    }
    assert tickets["webhook_configs"] == [{"url": "http://127.0.0.1:9999/shadow/tickets/0", "send_resolved": False}]
    assert copied["global"] == {
        "resolve_timeout": "5s",
        "smtp_from": "alertmanager@example.com",
        "smtp_smarthost": "127.0.0.1:2525",
        "smtp_require_tls": False,
    }
    text = yaml.safe_dump(copied)
    assert "example.com:587" not in text and "events.pagerduty.com" not in text and "chat-bridge" not in text
    assert SECRETS not in text


def test_the_shipped_integrations_and_routing_keys(shipped: Path) -> None:
    drill = drill_config(read_alertmanager_config(shipped), shipped, 60, URLS)
    teams = ("devops", "data-engineering", "ml-engineering")
    assert drill.integrations == [
        *(Integration(f"pagerduty-{t}", 0, "pagerduty", True, f"pagerduty-{t}") for t in teams),
        *(Integration(f"chat-{t}", 0, "webhook", True) for t in (*teams, "trading-desk")),
        Integration("tickets", 0, "email", False),
    ]
    keys = {receiver_of(drill.config, f"pagerduty-{t}")["pagerduty_configs"][0]["routing_key"]: t for t in teams}
    assert drill.routing_keys == {k: f"pagerduty-{t}" for k, t in keys.items()}
    assert len(keys) == 3


def test_routes_matchers_and_inhibit_rules_are_the_users(shipped: Path) -> None:
    original = read_alertmanager_config(shipped)
    copied = drill_config(original, shipped, 60, URLS).config
    assert without_durations(copied["route"]) == without_durations(original["route"])
    assert copied["inhibit_rules"] == original["inhibit_rules"]
    assert [r["name"] for r in copied["receivers"]] == [r["name"] for r in original["receivers"]]


def test_the_original_is_not_mutated(shipped: Path) -> None:
    original = read_alertmanager_config(shipped)
    original["templates"] = ["t/*.tmpl"]
    before = copy.deepcopy(original)
    drill_config(original, shipped, 60, URLS)
    assert original == before


def pd(**fields: Any) -> dict[str, Any]:
    return {"pagerduty_configs": [fields]}


def test_the_same_key_file_gets_the_same_stand_in_and_another_teams_key_maps_to_that_team() -> None:
    config = small(
        {"name": "page-devops", **pd(routing_key_file=f"{SECRETS}/pagerduty-devops.key")},
        {"name": "page-ml", **pd(routing_key_file=f"{SECRETS}/pagerduty-ml.key")},
        # a receiver of DevOps that pages with ML's key: the page reaches ML's service
        {"name": "page-devops-borrowing", **pd(routing_key_file=f"{SECRETS}/pagerduty-ml.key")},
        {"name": "page-devops-again", **pd(routing_key_file=f"{SECRETS}/pagerduty-devops.key")},
    )
    drill = drill_config(config, Path("/a.yml"), 60, URLS)
    key = {r["name"]: r["pagerduty_configs"][0]["routing_key"] for r in drill.config["receivers"]}
    assert key["page-devops"] == key["page-devops-again"] != key["page-ml"] == key["page-devops-borrowing"]
    assert drill.routing_keys == {key["page-devops"]: "pagerduty-devops", key["page-ml"]: "pagerduty-ml"}
    assert [(i.receiver, i.service) for i in drill.integrations] == [
        ("page-devops", "pagerduty-devops"),
        ("page-ml", "pagerduty-ml"),
        ("page-devops-borrowing", "pagerduty-ml"),
        ("page-devops-again", "pagerduty-devops"),
    ]


def test_a_literal_routing_key_is_replaced_and_stands_for_its_first_receiver() -> None:
    secret = "0123456789abcdef0123456789abcdef"
    config = small(
        {"name": "first", **pd(routing_key=secret)},
        {"name": "second", **pd(routing_key=secret)},
        {"name": "other", **pd(routing_key="fedcba9876543210fedcba9876543210")},
    )
    drill = drill_config(config, Path("/a.yml"), 60, URLS)
    keys = [r["pagerduty_configs"][0]["routing_key"] for r in drill.config["receivers"]]
    assert keys[0] == keys[1] != keys[2]
    assert secret not in yaml.safe_dump(drill.config)
    assert all(len(k) == 32 and k.startswith("alertdrill") for k in keys)
    assert drill.routing_keys == {keys[0]: "first", keys[2]: "other"}
    assert [i.service for i in drill.integrations] == ["first", "first", "other"]


def test_a_key_file_and_a_literal_key_with_the_same_text_are_different_keys() -> None:
    config = small({"name": "a", **pd(routing_key_file="/k/team.key")}, {"name": "b", **pd(routing_key="/k/team.key")})
    keys = [
        r["pagerduty_configs"][0]["routing_key"]
        for r in drill_config(config, Path("/a.yml"), 1, URLS).config["receivers"]
    ]
    assert keys[0] != keys[1]


@pytest.mark.parametrize(
    ("integration", "message"),
    [
        ({"service_key": "abc"}, "service_key"),
        ({"service_key_file": "/k/x.key"}, "service_key"),
        ({"severity": "critical"}, "routing_key or routing_key_file"),
    ],
)
def test_pagerduty_without_a_routing_key_is_refused(integration: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        drill_config(small({"name": "pager", **pd(**integration)}), Path("/cfg/am.yml"), 60, URLS)
    assert "receiver 'pager'" in str(info.value) and "/cfg/am.yml" in str(info.value)


@pytest.mark.parametrize("kind", ["opsgenie_configs", "victorops_configs", "telegram_configs", "msteams_configs"])
def test_integrations_without_a_stand_in_are_refused_naming_the_receiver(kind: str) -> None:
    config = small({"name": "ok", "webhook_configs": [{"url": "http://x"}]}, {"name": "ops", kind: [{}]})
    with pytest.raises(ConfigurationError) as info:
        drill_config(config, Path("/cfg/am.yml"), 60, URLS)
    assert "receiver 'ops'" in str(info.value) and kind in str(info.value)


@pytest.mark.parametrize("field", ["time_intervals", "mute_time_intervals"])
def test_time_intervals_are_refused(field: str) -> None:
    config = small({"name": "r"}, **{field: [{"name": "nights", "time_intervals": [{"times": []}]}]})
    with pytest.raises(ConfigurationError, match=field):
        drill_config(config, Path("/cfg/am.yml"), 60, URLS)


def test_slack_and_webhook_transport_settings_go() -> None:
    config = small(
        {
            "name": "chat",
            "slack_configs": [
                {"api_url_file": "/s/slack", "channel": "#ops", "http_config": {"proxy_url": "http://proxy"}},
                {"api_url": "https://hooks.slack.com/services/T/B/X", "send_resolved": True},
            ],
            "webhook_configs": [{"url_file": "/s/hook", "http_config": {"basic_auth": {"username": "u"}}}],
        }
    )
    drill = drill_config(config, Path("/a.yml"), 60, URLS)
    chat = drill.config["receivers"][0]
    # Alertmanager's order: webhooks first, then email, PagerDuty, Slack; index counts across kinds
    assert chat["slack_configs"] == [
        {"channel": "#ops", "api_url": "http://127.0.0.1:9999/slack/chat/1"},
        {"api_url": "http://127.0.0.1:9999/slack/chat/2", "send_resolved": True},
    ]
    assert chat["webhook_configs"] == [
        {"url": "http://127.0.0.1:9999/webhook/chat/0"},
        {"url": "http://127.0.0.1:9999/shadow/chat/0", "send_resolved": True},
        {"url": "http://127.0.0.1:9999/shadow/chat/1", "send_resolved": False},
        {"url": "http://127.0.0.1:9999/shadow/chat/2", "send_resolved": True},
    ]
    assert drill.integrations == [
        Integration("chat", 0, "webhook", True),
        Integration("chat", 1, "slack", False),
        Integration("chat", 2, "slack", True),
    ]


@pytest.mark.parametrize(
    ("kind", "integration", "default"),
    [
        ("pagerduty_configs", {"routing_key": "k"}, True),
        ("slack_configs", {"channel": "#c"}, False),
        ("webhook_configs", {"url": "http://x"}, True),
        ("email_configs", {"to": "a@b.c"}, False),
    ],
)
@pytest.mark.parametrize("explicit", [None, True, False])
def test_shadows_send_resolved_as_their_integration(
    kind: str, integration: dict[str, Any], default: bool, explicit: bool | None
) -> None:
    own = integration if explicit is None else {**integration, "send_resolved": explicit}
    drill = drill_config(small({"name": "r", kind: [own]}), Path("/a.yml"), 60, URLS)
    expected = default if explicit is None else explicit
    assert drill.integrations[0].send_resolved is expected
    assert drill.config["receivers"][0]["webhook_configs"][-1] == {
        "url": "http://127.0.0.1:9999/shadow/r/0",
        "send_resolved": expected,
    }


def test_email_auth_goes_and_headers_are_kept() -> None:
    config = small(
        {
            "name": "mail",
            "email_configs": [
                {
                    "to": "a@b.c",
                    "smarthost": "smtp.b.c:465",
                    "auth_username": "u",
                    "auth_password": "hunter2",
                    "auth_secret": "s",
                    "auth_identity": "i",
                    "require_tls": True,
                    "tls_config": {"insecure_skip_verify": False},
                    "headers": {"Subject": "custom"},
                }
            ],
        },
        **{
            "global": {
                "smtp_smarthost": "smtp.b.c:587",
                "smtp_auth_username": "u",
                "smtp_auth_password": "hunter2",
                "smtp_auth_identity": "i",
                "smtp_auth_secret": "s",
                "smtp_require_tls": True,
                "smtp_hello": "b.c",
            }
        },
    )
    copied = drill_config(config, Path("/a.yml"), 60, URLS).config
    (mail,) = copied["receivers"][0]["email_configs"]
    assert mail == {
        "to": "a@b.c",
        "smarthost": "127.0.0.1:2525",
        "require_tls": False,
        "hello": "mail.0.alertdrill.invalid",
        "headers": {"Subject": "custom", "X-Alertdrill-Receiver": "mail", "X-Alertdrill-Index": "0"},
    }
    assert copied["global"] == {
        "smtp_hello": "b.c",
        "resolve_timeout": "5s",
        "smtp_smarthost": "127.0.0.1:2525",
        "smtp_require_tls": False,
        "smtp_from": "alertmanager@alertdrill.invalid",  # a sender, when the user's config had none
    }
    assert "hunter2" not in yaml.safe_dump(copied)


def test_a_null_global_and_a_receiver_without_integrations() -> None:
    copied = drill_config(small({"name": "blackhole"}, **{"global": None}), Path("/a.yml"), 60, URLS).config
    assert copied["global"]["smtp_smarthost"] == "127.0.0.1:2525"
    assert copied["receivers"] == [{"name": "blackhole", "webhook_configs": []}]


def test_templates_are_made_absolute_relative_to_the_configs_folder(tmp_path: Path) -> None:
    source = tmp_path / "cfg" / "alertmanager.yml"
    config = small({"name": "r"}, templates=["templates/*.tmpl", "/abs/x.tmpl"])
    copied = drill_config(config, source, 60, URLS).config
    assert copied["templates"] == [str(tmp_path / "cfg" / "templates" / "*.tmpl"), "/abs/x.tmpl"]


def test_templates_are_absolute_for_a_relative_source() -> None:
    config = small({"name": "r"}, templates=["templates/*.tmpl"])
    copied = drill_config(config, Path("cfg/alertmanager.yml"), 60, URLS).config
    assert copied["templates"] == [str(Path.cwd() / "cfg" / "templates" / "*.tmpl")]


# --- durations that do not parse, and reading --------------------------------------------------


def test_a_bad_duration_in_a_child_route_names_the_field() -> None:
    with pytest.raises(ConfigurationError, match="group_wait"):
        drill_config({"route": {"routes": [{"group_wait": "later"}]}}, Path("/x/am.yml"), 60, URLS)


def test_bad_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "am.yml"
    path.write_text("route:\n  receiver: r\nreceivers:\n  - name: [r\n")
    with pytest.raises(ConfigurationError) as info:
        read_alertmanager_config(path)
    assert str(info.value).startswith(f"{path}:5: Alertmanager config is not YAML")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "receivers: []\n", "route: r\n"])
def test_a_config_that_is_not_a_mapping_with_a_route_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "am.yml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=r"a mapping with a route|config is not a mapping") as info:
        read_alertmanager_config(path)
    assert str(path) in str(info.value)


def test_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        read_alertmanager_config(tmp_path / "absent.yml")


# --- the real checker ------------------------------------------------------------------------


@pytest.mark.prometheus
@pytest.mark.skipif(not AMTOOL.exists(), reason=f"{AMTOOL} missing (apt-get install prometheus-alertmanager)")
def test_amtool_accepts_the_copies(shipped: Path, tmp_path: Path) -> None:
    configs = {
        "shipped": read_alertmanager_config(shipped),
        "every-kind": small(
            {"name": "all", "webhook_configs": [{"url": "http://x"}], "email_configs": [{"to": "a@b.c"}]},
            {"name": "pager", **pd(routing_key="abc")},
            {"name": "slack", "slack_configs": [{"channel": "#c", "api_url_file": "/s/url"}]},
            route={"receiver": "all", "routes": [{"receiver": "pager", "group_wait": "1s"}]},
            **{"global": {"smtp_auth_username": "u", "smtp_auth_password": "p"}},
        ),
    }
    for name, config in configs.items():
        path = tmp_path / f"{name}.yml"
        path.write_text(yaml.safe_dump(drill_config(config, shipped, 1000, URLS).config, sort_keys=False))
        proc = subprocess.run([str(AMTOOL), "check-config", str(path)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"{name}: {proc.stdout}{proc.stderr}"
        assert "SUCCESS" in proc.stdout
