"""On PostgreSQL, the database itself refuses two overlapping slots for one clinician.

SQLite has no exclusion constraints; there every write transaction holds the one write lock, so the
overlap check in `slots_regenerate` runs alone (see Slot's docstring).
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE scheduling_slot ADD CONSTRAINT slot_no_overlap_per_clinician
    EXCLUDE USING gist (clinician_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&);
"""
DROP = "ALTER TABLE scheduling_slot DROP CONSTRAINT IF EXISTS slot_no_overlap_per_clinician;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_schedules_slots_and_booking")]
    operations = [migrations.RunPython(create, drop)]
