"""``/admin``: the token is checked first, in constant time, whatever the body."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

import pytest

from tests.asgi_client import AsgiClient

SIM = {"X-Sim-Time": "1000.0"}
MALFORMED = {**SIM, "Content-Type": "application/json"}


@pytest.mark.parametrize("body", [b"{not json", b'{"error_rate": 2}', b'{"colour": 1}', b""])
@pytest.mark.parametrize("auth", [None, "Bearer wrong"])
def test_without_the_token_a_bad_body_is_a_401_not_a_422(
    body: bytes, auth: str | None, client: Callable[..., AsgiClient]
) -> None:
    headers = {**MALFORMED, **({"Authorization": auth} if auth else {})}
    r = client(admin_token="secret").put("/admin/chaos/x", content=body, headers=headers)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_with_the_admin_api_disabled_a_bad_body_is_a_404(client: Callable[..., AsgiClient]) -> None:
    r = client().put("/admin/chaos/x", content=b"{not json", headers=MALFORMED)
    assert r.status_code == 404 and "disabled" in r.text


def test_with_the_token_a_bad_body_is_a_422(client: Callable[..., AsgiClient]) -> None:
    r = client(admin_token="secret").put(
        "/admin/chaos/x", content=b"{not json", headers={**MALFORMED, "Authorization": "Bearer secret"}
    )
    assert r.status_code == 422


def test_the_token_is_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch, client: Callable[..., AsgiClient]
) -> None:
    compared: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    c = client(admin_token="secret")
    assert c.get("/admin/chaos", headers={**SIM, "Authorization": "Bearer secret"}).status_code == 200
    assert c.get("/admin/chaos", headers={**SIM, "Authorization": "Bearer secreT"}).status_code == 401
    assert len(compared) == 2


@pytest.mark.parametrize("auth", ["Bearer sécret".encode(), b"Bearer \xff\xfe", "Bearer sécret".encode("latin-1")])
def test_a_token_that_is_not_ascii_is_a_401_not_a_500(auth: bytes, client: Callable[..., AsgiClient]) -> None:
    r = client(admin_token="secret").get("/admin/chaos", headers={**SIM, "Authorization": auth})
    assert r.status_code == 401


def test_a_token_that_is_not_ascii_can_be_the_token(client: Callable[..., AsgiClient]) -> None:
    c = client(admin_token="sécret")
    assert c.get("/admin/chaos", headers={**SIM, "Authorization": "Bearer sécret".encode()}).status_code == 200


def test_the_health_probe_says_whether_a_token_is_the_services_and_counts_nothing(
    client: Callable[..., AsgiClient],
) -> None:
    c = client(admin_token="secret")
    assert "admin" not in c.get("/health").json()  # as before, for every other prober
    assert c.get("/health", headers={"Authorization": "Bearer secret"}).json()["admin"] == "accepted"
    assert c.get("/health", headers={"Authorization": "Bearer nope"}).json()["admin"] == "refused"
    assert client().get("/health", headers={"Authorization": "Bearer x"}).json()["admin"] == "disabled"
    assert "/health" not in c.get("/metrics", headers=SIM).text  # a probe is no request series


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"delay_seconds": False}, 422),  # pydantic's lax mode took false for 0.0
        ({"error_rate": "0.5"}, 422),
        ({"error_every": True}, 422),
        ({"error_every": 5.5}, 422),
        ({"error_every": 5.0}, 200),  # JSON Schema's integer
        ({"delay_seconds": 1}, 200),
    ],
)
def test_a_fault_is_read_as_strictly_as_its_schema(
    body: dict[str, object], status: int, client: Callable[..., AsgiClient]
) -> None:
    headers = {**SIM, "Authorization": "Bearer secret"}
    assert client(admin_token="secret").put("/admin/chaos/x", json=body, headers=headers).status_code == status
