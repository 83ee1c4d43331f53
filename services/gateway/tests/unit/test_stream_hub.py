import asyncio
import json

from gateway.stream.consumer import frame_of
from gateway.stream.hub import END, Hub, sse_frame


def test_a_frame_is_one_event_with_single_line_data() -> None:
    frame = sse_frame("tally.payment.failed", {"text": "two\nlines"}, "evt_1").decode()
    assert frame == 'event: tally.payment.failed\nid: evt_1\ndata: {"text":"two\\nlines"}\n\n'


def test_records_that_are_not_cloudevents_are_skipped() -> None:
    assert frame_of(b"not json") is None
    assert frame_of(b'{"no": "type"}') is None
    assert frame_of(None) is None
    frame = frame_of(json.dumps({"type": "tally.alert.fired\nevent: forged", "id": "e1"}).encode())
    assert frame is not None
    assert frame.decode().splitlines()[0] == "event: tally.alert.firedevent: forged"


async def test_every_client_gets_every_event_and_a_slow_one_is_cut_off() -> None:
    hub = Hub(queue_size=3)
    fast, slow = hub.subscribe(), hub.subscribe()
    for n in range(3):
        hub.publish(f"{n}".encode())
        assert await fast.queue.get() == f"{n}".encode()
    assert hub.clients == 2
    hub.publish(b"3")  # slow has 3 waiting already: it is cut off, its queue emptied
    assert hub.clients == 1
    assert slow.queue.qsize() == 1
    assert await slow.queue.get() == END
    assert await asyncio.wait_for(fast.queue.get(), 1) == b"3"
    hub.unsubscribe(fast)
    assert hub.clients == 0
