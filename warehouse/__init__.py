"""The DuckDB warehouse: where it is, its raw schema, and the readers and writers of raw tables."""

from warehouse.connection import DEFAULT_DB_PATH, connect, resolve_db_path, transaction
from warehouse.schema import RAW_TABLES, ensure_raw_schema

__all__ = ["DEFAULT_DB_PATH", "RAW_TABLES", "connect", "ensure_raw_schema", "resolve_db_path", "transaction"]
