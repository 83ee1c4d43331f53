from pathlib import Path

from sqlalchemy import MetaData

SCHEMA = "analytics"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
metadata = MetaData(schema=SCHEMA)
