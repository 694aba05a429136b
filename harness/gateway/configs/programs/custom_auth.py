# Written by the conformance harness: an offline key -> allowed-models policy for LiteLLM's
# custom_auth hook, so virtual-key behaviour can be checked without a database.
import json
import os

from fastapi import Request
from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth

KEYS = json.loads(os.environ["CC_GATEWAY_VIRTUAL_KEYS"])
MASTER = os.environ["CC_GATEWAY_MASTER_KEY"]


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    if api_key == MASTER:
        return UserAPIKeyAuth(api_key=api_key, user_role=LitellmUserRoles.PROXY_ADMIN)
    if api_key in KEYS:
        return UserAPIKeyAuth(api_key=api_key, token=api_key, models=KEYS[api_key])
    raise Exception("Authentication Error: invalid key")
