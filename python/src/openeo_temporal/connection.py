"""A Temporal client with the settings the ``temporal`` CLI and openeo-temporal read.

TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, ... or the Temporal config
file's profile; an address or namespace given here wins. Without any, the local dev server.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.envconfig import ClientConfig

DEFAULT_ADDRESS = "localhost:7233"


async def connect(address: str | None = None, namespace: str | None = None, **options: Any) -> Client:
    """Connects to Temporal; ``options`` go to ``Client.connect`` (e.g. ``data_converter``)."""
    config: dict[str, Any] = dict(ClientConfig.load_client_connect_config())
    if address:
        config["target_host"] = address
    if namespace:
        config["namespace"] = namespace
    config.setdefault("target_host", DEFAULT_ADDRESS)
    return await Client.connect(**config, **options)
