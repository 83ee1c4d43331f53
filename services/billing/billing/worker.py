from datetime import timedelta

from faststream.asgi import AsgiFastStream
from tally_runtime.kafka import create_broker
from tally_runtime.lifespans import Database
from tally_runtime.outbox import OutboxRelay
from tally_runtime.periodic import Periodic
from tally_runtime.worker import create_worker

from billing.config import BillingSettings, get_settings
from billing.db import MIGRATIONS, SCHEMA, outbox
from billing.invoices.run import invoice_run
from billing.payment.run import payment_run
from billing.payment.setup import stripe_api
from billing.usage import consumer as usage_consumer


def create_worker_app(settings: BillingSettings | None = None) -> AsgiFastStream:
    settings = settings or get_settings()
    database = Database(settings, SCHEMA, MIGRATIONS)
    broker = create_broker(settings.kafka_bootstrap_servers, client_id="billing-worker")
    usage_consumer.subscribe(broker, database.session, settings.consumer_group)
    relay = OutboxRelay(lambda: database.sessions, outbox, settings.kafka_bootstrap_servers)
    draft_for, grace = timedelta(hours=settings.invoice_draft_hours), timedelta(hours=settings.late_usage_grace_hours)
    invoices = Periodic(
        "invoice run", lambda: invoice_run(database.sessions, draft_for, grace), settings.invoice_run_every_s
    )
    jobs = [invoices]
    if api := stripe_api(settings):
        policy = settings.dunning_policy()
        jobs.append(
            Periodic("payment run", lambda: payment_run(database.sessions, api, policy), settings.payment_run_every_s)
        )
    return create_worker(
        broker,
        on_startup=[database.start, relay.start, *(job.start for job in jobs)],
        on_shutdown=[*(job.stop for job in jobs), relay.stop, database.stop],
    )
