"""dbt wiring: the project (light), the translator and the @dbt_assets (which import dagster_dbt)."""
