from fastapi import FastAPI
from tally_runtime.lifespans import Database, database_api

from analytics.config import get_settings
from analytics.db import MIGRATIONS, SCHEMA


def create_app() -> FastAPI:
    return database_api("Tally analytics", Database(get_settings(), SCHEMA, MIGRATIONS))
