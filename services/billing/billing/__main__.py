from tally_runtime.cli import run_service

from billing.app import create_app
from billing.config import get_settings
from billing.worker import create_worker_app

if __name__ == "__main__":
    run_service("billing", get_settings(), api=create_app, worker=create_worker_app)
