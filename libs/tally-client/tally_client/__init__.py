"""Send usage events to Tally from a product backend: batched, retried with the same ids, never blocking.

`TallyClient(api_key).track("acme-42", "api_call", {"tokens": 120})` queues an event and returns its id; a
background thread (or asyncio task, with `AsyncTallyClient`) delivers it. See the package README.
"""

from tally_client._core import DEFAULT_BASE_URL, DeliveryFailure, ErrorCallback, Stats
from tally_client.aio import AsyncTallyClient
from tally_client.sync import TallyClient

__all__ = ["DEFAULT_BASE_URL", "AsyncTallyClient", "DeliveryFailure", "ErrorCallback", "Stats", "TallyClient"]
