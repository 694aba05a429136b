"""The fork server warms the proxy's app once, before any fork, without serving anything."""

from __future__ import annotations

import sys
import types

import pytest

from harness.gateway.forkserver import zygote


class Route:
    def __init__(self) -> None:
        self.scopes: list[dict[str, object]] = []

    def matches(self, scope: dict[str, object]) -> tuple[int, dict[str, object]]:
        self.scopes.append(scope)
        return 0, {}


@pytest.fixture
def fake_proxy_module(monkeypatch: pytest.MonkeyPatch) -> list[Route]:
    routes = [Route(), Route()]
    module = types.ModuleType(zygote.PRELOAD)
    module.app = types.SimpleNamespace(router=types.SimpleNamespace(routes=routes))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, zygote.PRELOAD, module)
    monkeypatch.setattr(zygote, "WARM_IMPORTS", ("a_module_that_does_not_exist",))
    return routes


def test_warming_matches_every_route_against_a_path_no_route_has(
    fake_proxy_module: list[Route],
) -> None:
    zygote.warm()
    for route in fake_proxy_module:
        assert [s["path"] for s in route.scopes] == ["/__cc_gateway_warm__"]
        assert route.scopes[0]["type"] == "http"


def test_warming_never_stops_the_fork_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(
        sys.modules, zygote.PRELOAD, types.ModuleType(zygote.PRELOAD)
    )  # an app-less version
    zygote.warm()
    assert "AttributeError" in capsys.readouterr().err
