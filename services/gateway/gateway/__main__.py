from tally_runtime.cli import run_service

from gateway.app import create_app
from gateway.config import get_settings
from gateway.worker import create_worker_app

if __name__ == "__main__":
    run_service("gateway", get_settings(), api=create_app, worker=create_worker_app)
