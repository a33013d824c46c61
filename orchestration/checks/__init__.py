"""Asset checks: one data contract per Python stage (dbt tests arrive as checks through dagster-dbt)."""
