from faststream.asgi import AsgiFastStream
from tally_runtime.kafka import create_broker
from tally_runtime.lifespans import Database
from tally_runtime.worker import create_worker

from analytics.config import AnalyticsSettings, get_settings
from analytics.db import MIGRATIONS, SCHEMA
from analytics.projections import consumer as billing_consumer
from analytics.usage import consumer as usage_consumer


def create_worker_app(settings: AnalyticsSettings | None = None) -> AsgiFastStream:
    settings = settings or get_settings()
    database = Database(settings, SCHEMA, MIGRATIONS)
    broker = create_broker(settings.kafka_bootstrap_servers, client_id="analytics-worker")
    billing_consumer.subscribe(broker, database.session, settings.consumer_group, settings.policy())
    usage_consumer.subscribe(broker, database.session, f"{settings.consumer_group}-usage")
    return create_worker(broker, on_startup=[database.start], on_shutdown=[database.stop])
