"""The patient record's tables stay readable on a 375 px phone: the NHS.UK responsive table, in which
each cell carries its column's heading, shown on a narrow screen where the header row is hidden."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from carebridge.testing import parity


class _Tables(HTMLParser):
    """Per table (by data-testid): its class, the headers, and for each row each cell's role and heading."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, dict] = {}
        self._table: dict | None = None
        self._cell: dict | None = None
        self._in_header = self._in_heading_span = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table":
            self._table = {"class": attributes.get("class"), "role": attributes.get("role"), "headers": [], "rows": []}
            self.tables[attributes.get("data-testid", "")] = self._table
        elif self._table is None:
            return
        elif tag == "th":
            self._table["headers"].append({"role": attributes.get("role"), "text": ""})
            self._in_header = True
        elif tag == "tr" and attributes.get("class") == "nhsuk-table__row":
            self._table["rows"].append([])
        elif tag == "td":
            self._cell = {"role": attributes.get("role"), "heading": None}
            self._table["rows"][-1].append(self._cell)
        elif tag == "span" and "nhsuk-table-responsive__heading" in (attributes.get("class") or ""):
            self._in_heading_span = True
            if self._cell is not None:
                self._cell["heading"] = ""
                self._cell["heading_hidden"] = attributes.get("aria-hidden") == "true"

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "th":
            self._in_header = False
        elif tag == "span":
            self._in_heading_span = False
        elif tag == "td":
            self._cell = None

    def handle_data(self, data):
        if self._in_header and self._table is not None:
            self._table["headers"][-1]["text"] += data
        if self._in_heading_span and self._cell is not None:
            self._cell["heading"] += data


@pytest.mark.parametrize("table", ["appointments", "prescriptions"])
def test_each_record_table_is_the_nhs_responsive_table_with_every_cell_naming_its_column(table, schedule, client_for):
    parity.build_targets(schedule)  # alice has booked appointments; the world gave her a prescription
    page = client_for(schedule.gp).get(reverse("records:record", args=[schedule.alice.public_id]))
    assert page.status_code == 200
    parser = _Tables()
    parser.feed(page.content.decode())

    found = parser.tables[table]

    assert found["class"] == "nhsuk-table-responsive" and found["role"] == "table"
    assert found["headers"] and all(header["role"] == "columnheader" for header in found["headers"])
    assert found["rows"], "the table has rows to check"
    for row in found["rows"]:
        assert all(cell["role"] == "cell" for cell in row)
        for header, cell in zip(found["headers"], row, strict=True):
            if header["text"].strip() == "Actions":
                continue  # the links say what they act on themselves
            # Read by sight on a phone; a screen reader has the column header already, so it is hidden.
            assert cell["heading"] is not None and cell["heading"].strip() == header["text"].strip()
            assert cell["heading_hidden"]
