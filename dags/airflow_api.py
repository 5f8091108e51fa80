"""A small client of Airflow 3's REST API (stdlib only): token, unpause, trigger, wait for the end state."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

TERMINAL_STATES = {"success", "failed"}


class AirflowAPIError(RuntimeError):
    pass


def admin_password(airflow_home: Path, user: str = "admin") -> str:
    """The password standalone Airflow generated for ``user`` (simple auth manager)."""
    path = airflow_home / "simple_auth_manager_passwords.json.generated"
    try:
        return json.loads(path.read_text())[user]
    except (OSError, KeyError, ValueError) as error:
        raise AirflowAPIError(
            f"no generated password for {user!r} in {path}: is standalone Airflow running?"
        ) from error


class AirflowClient:
    def __init__(self, base_url: str, username: str, password: str, timeout_s: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.username, self.password = username, password
        self.timeout_s = timeout_s
        self._token: str | None = None

    def _request(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            raise AirflowAPIError(f"{method} {path}: HTTP {error.code}: {detail}") from None
        except urllib.error.URLError as error:
            raise AirflowAPIError(f"{method} {path}: {error.reason}") from None
        return json.loads(payload) if payload else None

    def token(self) -> str:
        """A JWT from POST /auth/token (cached for this client)."""
        if self._token is None:
            answer = self._request(
                "POST", "/auth/token", {"username": self.username, "password": self.password}, auth=False
            )
            self._token = answer["access_token"]
        return self._token

    def healthy(self) -> bool:
        try:
            health = self._request("GET", "/api/v2/monitor/health", auth=False)
        except AirflowAPIError:
            return False
        return health.get("metadatabase", {}).get("status") == "healthy"

    def dag(self, dag_id: str) -> dict | None:
        try:
            return self._request("GET", f"/api/v2/dags/{dag_id}")
        except AirflowAPIError as error:
            if "HTTP 404" in str(error):
                return None
            raise

    def wait_for_dag(self, dag_id: str, timeout_s: float) -> dict:
        """Wait until the DAG processor has parsed ``dag_id`` (a new DAG file takes a few seconds)."""
        deadline = time.monotonic() + timeout_s
        while (found := self.dag(dag_id)) is None:
            if time.monotonic() > deadline:
                raise AirflowAPIError(f"DAG {dag_id!r} did not appear within {timeout_s:.0f} s (import error?)")
            time.sleep(2)
        return found

    def unpause(self, dag_id: str) -> None:
        self._request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        run = self._request("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})
        return run["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        answer = self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=1000")
        return {
            ti["task_id"] + (f"[{ti['map_index']}]" if ti.get("map_index", -1) >= 0 else ""): ti["state"]
            for ti in answer["task_instances"]
        }

    def wait_for_run(self, dag_id: str, run_id: str, timeout_s: float, poll_s: float = 3.0) -> str:
        deadline = time.monotonic() + timeout_s
        while (state := self.run_state(dag_id, run_id)) not in TERMINAL_STATES:
            if time.monotonic() > deadline:
                raise AirflowAPIError(f"run {run_id} of {dag_id} still {state} after {timeout_s:.0f} s")
            time.sleep(poll_s)
        return state
