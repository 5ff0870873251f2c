"""Airflow DAG: one connector sync every 15 minutes, never two at once.

Copy into the DAGs folder of an Airflow 2.7+ or 3.x deployment whose workers
have the connector installed (``pip install map-salesforce-connector``) and its
settings in the environment (or use the container image with a
KubernetesPodOperator). Exit code 4 (stopped at the API budget) and 1 (some
records failed, kept for replay) are not failures of the schedule: the next
run continues; any other non-zero code fails the task.
"""

from __future__ import annotations

from datetime import datetime, timedelta

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.operators.bash import BashOperator

SYNC = (
    "connector sync --format json --log-format json; code=$?; "
    # 1 and 4 leave work for the next run; 5 means another run holds the lock
    'if [ "$code" -eq 1 ] || [ "$code" -eq 4 ] || [ "$code" -eq 5 ]; then exit 0; fi; '
    'exit "$code"'
)

with DAG(
    dag_id="map_connector_sync",
    description="Reconcile the marketing automation platform with Salesforce",
    schedule=timedelta(minutes=15),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 0, "execution_timeout": timedelta(hours=2)},
    tags=["salesforce", "marketing"],
) as dag:
    BashOperator(task_id="sync", bash_command=SYNC)
