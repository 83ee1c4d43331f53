from tally_runtime.cli import run_service

from assistant.app import create_app
from assistant.config import get_settings

if __name__ == "__main__":
    run_service("assistant", get_settings(), api=create_app)
