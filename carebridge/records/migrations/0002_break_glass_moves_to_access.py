from django.db import migrations


class Migration(migrations.Migration):
    """BreakGlassAccess now belongs to the access app (access 0001), which keeps the same table."""

    dependencies = [
        ("records", "0001_initial"),
        ("access", "0001_care_relationships_and_break_glass"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="BreakGlassAccess")]),
    ]
