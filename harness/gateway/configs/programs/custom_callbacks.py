import json
import os
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "costs.jsonl")


class CostRecorder(CustomLogger):
    """Writes what LiteLLM would book as spend for each successful call."""

    async def async_log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        logged = kwargs.get("standard_logging_object") or {}
        with open(LOG, "a") as out:
            out.write(
                json.dumps(
                    {
                        "call_id": kwargs.get("litellm_call_id") or logged.get("id"),
                        "model_group": logged.get("model_group"),
                        "stream": logged.get("stream"),
                        "response_cost": kwargs.get("response_cost", logged.get("response_cost")),
                    }
                )
                + "\n"
            )


proxy_handler_instance = CostRecorder()
