from faststream.asgi import AsgiFastStream
from tally_runtime.kafka import create_broker
from tally_runtime.lifespans import Database
from tally_runtime.outbox import OutboxRelay
from tally_runtime.worker import create_worker

from gateway.config import GatewaySettings, get_settings
from gateway.db import MIGRATIONS, SCHEMA, outbox


def create_worker_app(settings: GatewaySettings | None = None) -> AsgiFastStream:
    """The outbox relay (API key announcements); no subscribers yet."""
    settings = settings or get_settings()
    database = Database(settings, SCHEMA, MIGRATIONS)
    broker = create_broker(settings.kafka_bootstrap_servers, client_id="gateway-worker")
    relay = OutboxRelay(lambda: database.sessions, outbox, settings.kafka_bootstrap_servers)
    return create_worker(broker, on_startup=[database.start, relay.start], on_shutdown=[relay.stop, database.stop])
