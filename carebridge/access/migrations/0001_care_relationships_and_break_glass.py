import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("organisations", "0001_initial"),
        ("patients", "0001_initial"),
        ("records", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # BreakGlassAccess moved here from the records app: its table stays as it is, so only Django's
        # idea of which app owns it changes (records 0002 lets go of it).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="BreakGlassAccess",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("reason", models.TextField()),
                        ("opened_at", models.DateTimeField()),
                        ("expires_at", models.DateTimeField()),
                        ("reviewed_at", models.DateTimeField(blank=True, null=True)),
                        ("review_note", models.TextField(blank=True)),
                        (
                            "clinician_user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "patient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="break_glass_accesses",
                                to="patients.patient",
                            ),
                        ),
                        (
                            "reviewed_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "records_breakglassaccess",
                        "ordering": ["-opened_at"],
                        "indexes": [
                            models.Index(
                                fields=["clinician_user", "patient", "expires_at"],
                                name="records_bre_clinici_76b11d_idx",
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.CreateModel(
            name="CareRelationship",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("appointment", "Appointment"),
                            ("referral_received", "Referral received"),
                            ("referral_sent", "Referral sent"),
                        ],
                        max_length=20,
                    ),
                ),
                ("source_id", models.UUIDField()),
                ("starts_at", models.DateTimeField()),
                ("ends_at", models.DateTimeField(blank=True, null=True)),
                ("summary", models.CharField(max_length=200)),
                (
                    "clinician",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="organisations.clinician",
                    ),
                ),
                (
                    "facility",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="organisations.facility"
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="care_relationships",
                        to="patients.patient",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["patient", "facility"], name="care_rel_patient_facility"),
                    models.Index(fields=["patient", "clinician"], name="care_rel_patient_clinician"),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("source_id", "kind"), name="care_relationship_one_per_source"),
                    models.CheckConstraint(
                        condition=models.Q(("kind__in", ["appointment", "referral_received", "referral_sent"])),
                        name="care_relationship_kind_known",
                    ),
                ],
            },
        ),
    ]
