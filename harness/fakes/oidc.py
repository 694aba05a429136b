"""A fake OpenID Connect issuer on loopback: the company identity provider a gateway's sign-in
needs (Anthropic's ``claude gateway``, issue 41).

It is as small as the gateway's use of it: discovery, JWKS, an authorization endpoint that
approves one fixed developer at once (no login page: the harness is the browser), a token
endpoint that answers the authorization-code grant with an RS256 ``id_token``, and userinfo.
Keys are made per issuer and never leave the process. Synthetic: no public recording of an IdP
conversation exists, and none is needed, since the gateway, not the IdP, is under test. What it
enforces follows OpenID Connect Core 1.0 (section 3.1.3.2: the code is single use, bound to its
``redirect_uri`` and client) and RFC 7636 (the PKCE verifier must hash to the challenge).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

KID = "fake-idp-1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class Developer:
    """Who signs in: the claims the id_token carries."""

    sub: str = "dev-1"
    email: str = "dev@example.com"
    name: str = "Dev One"
    groups: tuple[str, ...] = ("engineering",)


@dataclass
class FakeIdP:
    """``start()`` it, give a gateway ``issuer``, ``client_id`` and ``client_secret``."""

    client_id: str = "cc-gateway"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    developer: Developer = field(default_factory=Developer)
    # Requests served, as "METHOD /path": a test reads what the gateway asked for.
    journal: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._codes: dict[str, dict[str, str]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def issuer(self) -> str:
        # localhost, not 127.0.0.1: the gateway takes an IP-literal URL for a metadata endpoint.
        assert self._server is not None, "start() the issuer first"
        return f"http://localhost:{self._server.server_address[1]}"

    def start(self) -> FakeIdP:
        idp = self

        class Handler(_Handler):
            owner = idp

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-idp", daemon=True).start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def discovery(self) -> dict[str, Any]:
        iss = self.issuer
        return {
            "issuer": iss,
            "authorization_endpoint": f"{iss}/authorize",
            "token_endpoint": f"{iss}/token",
            "jwks_uri": f"{iss}/jwks",
            "userinfo_endpoint": f"{iss}/userinfo",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
        }

    def jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()
        jwk = {"kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256"}
        return {"keys": [{**jwk, "n": _uint(numbers.n), "e": _uint(numbers.e)}]}

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """Approve the fixed developer: a redirect back with a one-time code, or a 400."""
        if query.get("client_id") != self.client_id or "openid" not in query.get("scope", ""):
            return 400, "unknown client_id, or scope without openid"
        if query.get("response_type") != "code" or not query.get("redirect_uri"):
            return 400, "response_type must be code, with a redirect_uri"
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = dict(query)
        back = {"code": code, "state": query.get("state", "")}
        return 302, query["redirect_uri"] + "?" + urlencode(back)

    def token(
        self, form: dict[str, str], basic: tuple[str, str] | None
    ) -> tuple[int, dict[str, Any]]:
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        if (client_id, secret) != (self.client_id, self.client_secret):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") == "refresh_token":
            return 200, self._tokens({"client_id": client_id})
        with self._lock:
            asked = self._codes.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or asked is None:
            return 400, {"error": "invalid_grant"}
        if asked.get("redirect_uri") != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"}
        challenge = asked.get("code_challenge")
        verifier = form.get("code_verifier", "")
        if challenge and _b64(hashlib.sha256(verifier.encode()).digest()) != challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verifier mismatch"}
        return 200, self._tokens(asked)

    def _tokens(self, asked: dict[str, str]) -> dict[str, Any]:
        now = int(time.time())
        dev = self.developer
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": dev.sub,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 3600,
            "email": dev.email,
            "email_verified": True,
            "name": dev.name,
            "groups": list(dev.groups),
        }
        if asked.get("nonce"):
            claims["nonce"] = asked["nonce"]
        return {
            "access_token": secrets.token_urlsafe(24),
            "id_token": self.sign(claims),
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": secrets.token_urlsafe(24),
        }

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": KID}
        signing = ".".join(_b64(json.dumps(p).encode()) for p in (header, claims)).encode()
        signature = self._key.sign(signing, padding.PKCS1v15(), hashes.SHA256())
        return signing.decode() + "." + _b64(signature)

    def userinfo(self) -> dict[str, Any]:
        dev = self.developer
        return {
            "sub": dev.sub,
            "email": dev.email,
            "email_verified": True,
            "name": dev.name,
            "groups": list(dev.groups),
        }


class _Handler(BaseHTTPRequestHandler):
    owner: FakeIdP

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {**headers, "content-length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode(), {"content-type": "application/json"})

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.owner.journal.append(f"GET {parts.path}")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        idp = self.owner
        if parts.path == "/.well-known/openid-configuration":
            return self._json(200, idp.discovery())
        if parts.path == "/jwks":
            return self._json(200, idp.jwks())
        if parts.path == "/userinfo":
            return self._json(200, idp.userinfo())
        if parts.path == "/authorize":
            status, where = idp.authorize(query)
            if status == 302:
                return self._send(302, b"", {"location": where})
            return self._json(status, {"error": "invalid_request", "error_description": where})
        self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        self.owner.journal.append(f"POST {self.path}")
        length = int(self.headers.get("content-length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if self.path != "/token":
            return self._json(404, {"error": "not_found"})
        status, payload = self.owner.token(form, _basic(self.headers.get("authorization", "")))
        self._json(status, payload)


def _basic(header: str) -> tuple[str, str] | None:
    """client_secret_basic's credentials (RFC 6749 section 2.3.1: form-urlencoded, then base64)."""
    if not header.lower().startswith("basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return unquote(user), unquote(password)
