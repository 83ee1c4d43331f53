from tally_runtime.cli import run_service

from usage_ingest.app import create_app
from usage_ingest.config import get_settings

if __name__ == "__main__":
    run_service("usage_ingest", get_settings(), api=create_app)
