"""Anthropic's gateway driver (issue 41): its gateway.yaml rendering, the fake identity provider
its sign-in needs, and the throwaway PostgreSQL cluster its store needs."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml

from harness.errors import HarnessError
from harness.fakes.oidc import FakeIdP
from harness.gateway.configs import GatewayConfig, Upstreams, default_config
from harness.gateway.configs.neutral import deployments
from harness.gateway.drivers import claude_gateway
from harness.gateway.postgres import Cluster, bindir

UPSTREAMS = Upstreams("http://127.0.0.1:9001", "http://127.0.0.1:9002")


def _rendered(config: GatewayConfig) -> tuple[dict, dict[str, str]]:
    env: dict[str, str] = {}
    return claude_gateway.render(config, 4321, env), env


def test_every_anthropic_model_name_is_served_and_no_other():
    config = default_config(UPSTREAMS)
    rendered, _ = _rendered(config)
    served = {m["id"] for m in rendered["models"]}
    assert served == {d.model_name for d in deployments(config, "anthropic")}
    # Built-in models would serve names the config lacks (ROUTE-003).
    assert rendered["auto_include_builtin_models"] is False


def test_upstreams_are_on_localhost_and_keys_stay_out_of_the_file():
    config = default_config(UPSTREAMS)
    rendered, env = _rendered(config)
    text = yaml.safe_dump(rendered)
    assert UPSTREAMS.anthropic_key not in text
    assert UPSTREAMS.anthropic_key in env.values()
    assert {u["base_url"] for u in rendered["upstreams"]} == {"http://localhost:9001"}


def test_a_pool_gets_an_upstream_per_deployment_in_its_order():
    pair = [
        {
            "model_name": "m",
            "litellm_params": {
                "model": f"anthropic/{up}",
                "order": order,
                "api_base": UPSTREAMS.anthropic_url,
            },
        }
        for up, order in (("second", 2), ("first", 1))
    ]
    rendered, _ = _rendered(GatewayConfig("pair", {"model_list": pair}))
    names = [u["name"] for u in rendered["upstreams"]]
    assert rendered["models"] == [
        {"id": "m", "upstream_model": dict(zip(names, ["first", "second"], strict=True))}
    ]


def test_a_config_with_nothing_it_can_serve_is_a_harness_error():
    config = GatewayConfig(
        "openai-only",
        {
            "model_list": [
                {
                    "model_name": "g",
                    "litellm_params": {"model": "openai/gpt-4o", "api_base": "http://x"},
                }
            ]
        },
    )
    with pytest.raises(HarnessError, match="no Anthropic deployment"):
        _rendered(config)


@pytest.fixture
def idp():
    issuer = FakeIdP().start()
    yield issuer
    issuer.stop()


def _authorize(idp: FakeIdP, verifier: str) -> str:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "client_id": idp.client_id,
        "scope": "openid email",
        "response_type": "code",
        "redirect_uri": "http://localhost:1/cb",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    got = httpx.get(f"{idp.issuer}/authorize", params=query)
    assert got.status_code == 302
    return parse_qs(urlsplit(got.headers["location"]).query)["code"][0]


def _token(idp: FakeIdP, code: str, verifier: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": "http://localhost:1/cb",
    }
    return httpx.post(f"{idp.issuer}/token", data=form, auth=(idp.client_id, idp.client_secret))


def test_the_issuer_answers_discovery_and_signs_an_id_token_with_its_nonce(idp):
    assert (
        httpx.get(f"{idp.issuer}/.well-known/openid-configuration").json()["issuer"] == idp.issuer
    )
    got = _token(idp, _authorize(idp, "v" * 43), "v" * 43)
    assert got.status_code == 200
    header, claims, _ = got.json()["id_token"].split(".")
    pad = lambda part: part + "=" * (-len(part) % 4)  # noqa: E731
    assert json.loads(base64.urlsafe_b64decode(pad(header)))["kid"] == idp.jwks()["keys"][0]["kid"]
    body = json.loads(base64.urlsafe_b64decode(pad(claims)))
    assert (body["nonce"], body["aud"], body["email_verified"]) == ("n", idp.client_id, True)


def test_the_issuer_refuses_a_wrong_verifier_a_reused_code_and_a_wrong_secret(idp):
    code = _authorize(idp, "v" * 43)
    assert _token(idp, code, "w" * 43).json()["error"] == "invalid_grant"
    code = _authorize(idp, "v" * 43)
    assert _token(idp, code, "v" * 43).status_code == 200
    assert _token(idp, code, "v" * 43).json()["error"] == "invalid_grant"
    form = {"grant_type": "authorization_code", "code": _authorize(idp, "v" * 43)}
    wrong = httpx.post(f"{idp.issuer}/token", data=form, auth=(idp.client_id, "nope"))
    assert wrong.status_code == 401


def test_a_postgres_cluster_starts_serves_a_database_and_is_gone_after_stop():
    if bindir() is None:
        pytest.fail("no PostgreSQL server here: `python3 dev.py all` installs Debian's as root")
    cluster = Cluster().start()
    try:
        url = cluster.database("probe")
        assert url.startswith(f"postgres://postgres@localhost:{cluster.port}/")
        assert (cluster.data / "PG_VERSION").exists()
    finally:
        cluster.stop()
    assert not cluster.folder.exists()


def test_claude_code_router_routes_by_model_name_and_serves_no_other(tmp_path):
    """CCR routes by scenario; the rendered router script routes by model name (issue 41)."""
    from harness.gateway.drivers import claude_code_router as ccr

    config = default_config(UPSTREAMS)
    rendered, script = ccr.render(config, 4321, tmp_path / "router.js")
    assert rendered["CUSTOM_ROUTER_PATH"] == str(tmp_path / "router.js")
    assert rendered["APIKEY"] == config.master_key
    assert [p["api_base_url"] for p in rendered["Providers"]] == [
        "http://127.0.0.1:9001/v1/messages"
    ]
    for deployment in deployments(config, "anthropic"):
        assert f'"{deployment.model_name}":' in script
    assert ccr.UNSERVED in script
