"""Which module serves which platform, imported only when a source uses it.

A missing optional library therefore breaks only the sources that need it,
never start-up.
"""

from __future__ import annotations

from importlib import import_module

from connectors.base import Connector

PLATFORMS: dict[str, str] = {
    "demo": "connectors.demo:DemoConnector",
    "feed": "connectors.feeds:FeedConnector",
    "reddit": "connectors.reddit:RedditConnector",
    "x": "connectors.x:XConnector",
}


def connector_class(platform: str) -> type[Connector]:
    module_name, class_name = PLATFORMS[platform].split(":")
    connector: type[Connector] = getattr(import_module(module_name), class_name)
    return connector
