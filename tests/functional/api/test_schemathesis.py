"""schemathesis against /api/schema/: generated requests to every operation; no 5xx, no answer that breaks
the schema."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import CORPUS

app = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
# Examples and random generation; the exhaustive "coverage" phase would build 1,000-item bodies for the bulk
# hash lookup at collection time.
schema.config.phases.update(phases=["examples", "fuzzing"])


@pytest.fixture
def keep_connection():
    """Calling the WSGI app directly, as Django's test client does: a finished request must not close the
    test's database connection (it holds the test's transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def catalog_data(db, keep_connection):
    from ingest.parsers.documents import parse_document
    from ingest.services import model_upsert

    for path in sorted((CORPUS / "mirror-pages").glob("*.json"))[:4]:
        for _, record in parse_document(path.read_bytes(), name=path.name):
            model_upsert(record)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_answers_every_generated_request_within_its_schema(case, catalog_data) -> None:
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
