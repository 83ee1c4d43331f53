from fastapi import FastAPI
from tally_runtime.lifespans import Database, database_api

from assistant.config import get_settings
from assistant.db import MIGRATIONS, SCHEMA


def create_app() -> FastAPI:
    return database_api("Tally assistant", Database(get_settings(), SCHEMA, MIGRATIONS))
