"""On PostgreSQL, a statement a connection runs again and again is parsed and planned once
(settings.py, DB_PREPARED_STATEMENTS): planning was most of PostgreSQL's CPU on the API's hot paths."""

import pytest
from django.db import connection

from carebridge.core.prepared import PreparedQuery
from carebridge.patients.models import Patient

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"),
]

# A query no other code runs (these two columns only), so the statement it leaves prepared is its own,
# whatever earlier tests prepared on the same connection.
_BY_NHS_NUMBER = PreparedQuery(
    lambda nhs_number: Patient.objects.filter(nhs_number=nhs_number).values("pk", "nhs_number"),
    nhs_number=str,
)


def _prepared_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_a_statement_run_again_and_again_is_prepared_once_with_its_values_apart():
    before = _prepared_statements()
    for number in ("9000000009", "9000000017", "9000000025", "9000000033", "9000000041", "9000000068"):
        assert _BY_NHS_NUMBER.rows(nhs_number=number) == []
    [statement] = _prepared_statements() - before
    # One statement for six values: the value is a parameter ($1), not part of the SQL.
    assert "$1" in statement and "9000000" not in statement
