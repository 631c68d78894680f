import uuid

import pytest

from carebridge.core.fields import public_id_from

KNOWN = uuid.UUID("6f1c2e0a-4b7d-4c39-9a55-2f7e8d1b3c4a")


@pytest.mark.parametrize(
    "value, expected",
    [
        (KNOWN, KNOWN),
        (str(KNOWN), KNOWN),
        (KNOWN.hex, KNOWN),
        (str(KNOWN).upper(), KNOWN),
        ("not-a-uuid", None),
        ("", None),
        ("6f1c2e0a-4b7d-4c39-9a55-2f7e8d1b3c4", None),  # one digit short
        ("'; DROP TABLE patients_patient; --", None),
    ],
)
def test_a_public_id_is_read_from_what_a_url_or_form_gives(value, expected):
    assert public_id_from(value) == expected
