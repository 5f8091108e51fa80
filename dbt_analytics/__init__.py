"""The dbt project (sources -> staging -> marts) and the Python glue that runs it with the project's settings.

The dbt project lives in this folder (``dbt_project.yml``); ``profiles`` writes a ``profiles.yml`` from
``core.settings`` into the data directory and ``runner`` runs dbt as a subprocess against it.
"""

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent
