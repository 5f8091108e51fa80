"""Airflow DAG files (stream_reader, dbt_analytics, stream_maintenance) and the helpers they share.

Only the three DAG files are parsed by Airflow (``.airflowignore`` lists the rest). DAGs read their
connections from ``core.settings``: embedded servers under the data directory, or the configured URLs.
"""
