"""JSON request bodies are read through Flask's JSON provider: the API,
the settings preview and the webhook. Here its depth is checked before
parsing, where Python's parser would exhaust the stack on deep nesting."""
from typing import Any

from flask.json.provider import DefaultJSONProvider

from .domain.inputs import MAX_JSON_DEPTH, json_too_deep


class TooDeep(ValueError):
    """A JSON document nested deeper than any of ours needs."""


class DepthLimitedJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if json_too_deep(s):
            raise TooDeep(f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")
        return super().loads(s, **kwargs)
