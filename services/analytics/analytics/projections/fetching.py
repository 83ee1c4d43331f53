"""A topic fetched from its beginning by a process of its own, which hands the messages' values over a socket batch by
batch: the rebuild's own process then spends its time reading and folding them, not decoding Kafka's records (a
third of the work, which the GIL would serialize with the rest). The fetching process sends from its event loop
(non-blocking, so it goes on fetching while the rebuild is busy, with no thread of its own to contend with)."""

import asyncio
import multiprocessing
import pickle
import signal
import socket
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from analytics.projections.replay import Records, reading

Values = list[bytes]

_ALWAYS, _UNLESS_AT_END, _STOP = b"a", b"u", b"s"  # commands to the fetching process
_VALUES, _END, _FAILED = 0, 1, 2  # its messages: a batch of values; the end, with the count; why it stopped
_HEADER = struct.Struct("!BQ")  # kind, length of what follows


class Fetcher:
    """The rebuild's end of the socket. One caller at a time (blocking: run it on a thread)."""

    def __init__(self, channel: socket.socket) -> None:
        self._channel, self._incoming = channel, channel.makefile("rb")

    def drain(self, handle: Callable[[Values], None], *, unless_at_end: bool = False) -> int:
        """Hands every value up to the topic's current end to `handle`; returns how many. Called again, it goes on
        from there to the new end. `unless_at_end`: nothing when the end last fetched has been reached (no waiting
        for a fetch that may bring nothing)."""
        self._channel.sendall(_UNLESS_AT_END if unless_at_end else _ALWAYS)
        while True:
            kind, body = self._receive()
            if kind == _VALUES:
                handle(pickle.loads(body))
            elif kind == _END:
                return int(body)
            else:
                raise RuntimeError(f"the fetching process failed: {body.decode()}")

    def _receive(self) -> tuple[int, bytes]:
        header = self._incoming.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise RuntimeError("the fetching process ended unexpectedly")
        kind, length = _HEADER.unpack(header)
        body = self._incoming.read(length)
        if len(body) < length:
            raise RuntimeError("the fetching process ended unexpectedly")
        return kind, body


@contextmanager
def fetching(bootstrap: str, topic: str, group_id: str) -> Iterator[Fetcher]:
    """Forked before the rebuild holds anything large, so the process starts at once with what is imported. On
    leaving, it is told to stop and not waited for (it only closes its consumer)."""
    ours, theirs = socket.socketpair()
    process = multiprocessing.get_context("fork").Process(
        target=_serve, args=(ours, theirs, bootstrap, topic, group_id), name="rebuild-fetch", daemon=True
    )
    process.start()
    theirs.close()
    try:
        yield Fetcher(ours)
    finally:
        with suppress(OSError):  # it ended already
            ours.sendall(_STOP)
        ours.close()


def _serve(rebuilds_end: socket.socket, channel: socket.socket, bootstrap: str, topic: str, group_id: str) -> None:
    rebuilds_end.close()  # so that the rebuild's end closing, or its process dying, ends this one
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is the rebuild's to handle
    asyncio.run(_fetch(channel, bootstrap, topic, group_id))


async def _fetch(channel: socket.socket, bootstrap: str, topic: str, group_id: str) -> None:
    loop = asyncio.get_running_loop()
    channel.setblocking(False)

    async def send(kind: int, body: bytes) -> None:
        await loop.sock_sendall(channel, _HEADER.pack(kind, len(body)) + body)

    async def hand_over(records: Records) -> None:
        await send(_VALUES, pickle.dumps([record.value or b"" for record in records], pickle.HIGHEST_PROTOCOL))

    try:
        async with reading(bootstrap, topic, group_id) as reader:
            while (command := await loop.sock_recv(channel, 1)) in {_ALWAYS, _UNLESS_AT_END}:
                at_end = command == _UNLESS_AT_END and await reader.at_end()
                await send(_END, b"%d" % (0 if at_end else await reader.drain(hand_over)))
    except Exception as exc:  # the rebuild raises it
        with suppress(OSError):
            await send(_FAILED, f"{type(exc).__name__}: {exc}".encode())
