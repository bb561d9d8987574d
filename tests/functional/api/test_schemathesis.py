"""schemathesis against /api/schema/: generated requests to every operation, every check schemathesis has (its
`--checks all`): no 5xx, no answer that breaks the schema, no status or header the schema does not declare."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

from tests.conftest import CORPUS

app = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
# Examples and random generation; the exhaustive "coverage" phase would build 1,000-item bodies for the bulk
# hash lookup at collection time.
schema.config.phases.update(phases=["examples", "fuzzing"])
load_all_checks()
ALL_CHECKS = CHECKS.get_all()
# A request the schema allows may still be refused with a 400 naming what is wrong where no schema can say it:
# a cursor this API never gave out (/api/v1/, as Civitai), a NUL byte (no database text holds one).
schema.config.checks.positive_data_acceptance.expected_statuses = [
    "2xx",
    "3xx",
    "400",
    "401",
    "403",
    "404",
    "409",
    "429",
]


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
    from ingest.writer import model_upsert

    for path in sorted((CORPUS / "mirror-pages").glob("*.json"))[:4]:
        for _, record in parse_document(path.read_bytes(), name=path.name):
            model_upsert(record)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_answers_every_generated_request_within_its_schema(case, catalog_data) -> None:
    response = case.call()
    case.validate_response(response, checks=ALL_CHECKS)
