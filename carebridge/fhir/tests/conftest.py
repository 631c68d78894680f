"""The FHIR tests share the API tests' token fixtures."""

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from carebridge.api.tests.conftest import api_client_for, token_for  # noqa: F401  (fixtures, used by name)


@pytest.fixture
def outcome_of():
    """outcome_of(response): the response's OperationOutcome, parsed with the R4B model, and its one issue."""

    def parse(response):
        assert response["Content-Type"].startswith("application/fhir+json")
        outcome = OperationOutcome.model_validate(response.json())
        assert len(outcome.issue) == 1
        return outcome.issue[0]

    return parse
