"""Property-based requests generated from the OpenAPI schema: no 5xx, answers match the documented schemas.

Writes carry the token (schemathesis also replays them without it and expects a 401); the yt-dlp probe is
replaced by a fake, since generated URLs point anywhere. The example count is bounded to keep this fast.
Then stateful sequences (register, then read, change and remove what was registered). Everything runs twice:
with the marts built, and as on a fresh install before the first dbt build (the source tables hold rows, the
marts schema does not exist): no 5xx either way (issue 22). The source policy is the default one (no local
sources), so generated URLs never reach this machine's network.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from api.deps import now_dep, prober_dep, settings_dep
from api.guards import WriteLimits
from core.probe import StreamInfo, StreamUnreachable
from tests.api.conftest import AUTH


def fake_probe(ref, timeout_s: float) -> StreamInfo:
    """Streams whose URL mentions "dead" are unreachable; the rest are live."""
    if "dead" in ref.url:
        raise StreamUnreachable("nothing there")
    return StreamInfo(title="generated", channel=None, is_live=True)


APP = create_app(serve_ui=False)  # request-time settings come from the fixture below
# The live-update streams never end (tests/api/test_live.py reads them over a socket).
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(path_regex=r"/events$")


@pytest.fixture(autouse=True, params=["marts built", "before dbt build"])
def bound_app(request, api_settings, fresh, now):
    """Each operation's examples run against freshly written known rows, a fixed "now" and a fake prober."""
    update = {"allow_local_sources": False}
    if request.param == "before dbt build":
        update["api_marts_schema"] = "marts_not_built_yet"
    bound = api_settings.model_copy(update=update)

    async def fixed_settings():
        return bound

    async def fixed_now():
        return now

    async def prober():
        return fake_probe

    APP.dependency_overrides.update({settings_dep: fixed_settings, now_dep: fixed_now, prober_dep: prober})
    APP.state.cache.clear()
    APP.state.write_limits = WriteLimits(10**6, 10**6)  # generated writes come fast; the limit has its own tests
    yield
    APP.dependency_overrides.clear()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_generated_requests_never_fail_on_the_server(case) -> None:
    # positive_data_acceptance is left out: rules the schema cannot state (URL syntax, from < to, a name
    # that is not only spaces) rightly refuse some schema-valid requests with a 422.
    case.call_and_validate(headers=AUTH, excluded_checks=[positive_data_acceptance])


class Stateful(schema.as_state_machine()):
    """Sequences of calls linked through the schema (a created stream's id fed to GET/PATCH/DELETE)."""

    def get_call_kwargs(self, case):
        return {"headers": AUTH}

    def validate_response(self, response, case, **kwargs):
        case.validate_response(response, excluded_checks=[positive_data_acceptance])


def test_stateful_sequences_never_fail_on_the_server() -> None:
    from hypothesis import settings as hypothesis_settings
    from hypothesis.stateful import run_state_machine_as_test

    # schemathesis infers the links from the schema: a registered stream's id flows into the calls on it.
    assert any(name.startswith("POST_api_streams___201_") and "PATCH" in name for name in dir(Stateful))
    run_state_machine_as_test(Stateful, settings=hypothesis_settings(
        max_examples=15, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck),
        derandomize=True))
