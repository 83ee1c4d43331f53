from tally_runtime.cli import run_service

from analytics.app import create_app
from analytics.config import get_settings

if __name__ == "__main__":
    run_service("analytics", get_settings(), api=create_app)
