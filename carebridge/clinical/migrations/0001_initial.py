import carebridge.core.fields
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("organisations", "0001_initial"),
        ("patients", "0002_patient_nominated_pharmacy"),
        ("scheduling", "0004_appointment_calendar_sequence"),
    ]

    operations = [
        migrations.CreateModel(
            name="Condition",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "public_id",
                    models.UUIDField(default=carebridge.core.fields.new_public_id, editable=False, unique=True),
                ),
                ("code", models.CharField(blank=True, max_length=20)),
                ("display", models.CharField(max_length=200)),
                (
                    "status",
                    models.CharField(
                        choices=[("active", "Active"), ("resolved", "Resolved")], default="active", max_length=20
                    ),
                ),
                ("recorded_at", models.DateTimeField()),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="conditions", to="patients.patient"
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="organisations.clinician"
                    ),
                ),
            ],
            options={
                "ordering": ["status", "-recorded_at"],
            },
        ),
        migrations.CreateModel(
            name="Consultation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "public_id",
                    models.UUIDField(default=carebridge.core.fields.new_public_id, editable=False, unique=True),
                ),
                ("started_at", models.DateTimeField()),
                ("symptoms", models.TextField()),
                ("findings", models.TextField(blank=True)),
                ("assessment", models.TextField(blank=True)),
                ("plan", models.TextField(blank=True)),
                (
                    "appointment",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consultations",
                        to="scheduling.appointment",
                    ),
                ),
                (
                    "clinician",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consultations",
                        to="organisations.clinician",
                    ),
                ),
                (
                    "condition",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="clinical.condition",
                    ),
                ),
                (
                    "facility",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="organisations.facility"
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="consultations", to="patients.patient"
                    ),
                ),
            ],
            options={
                "ordering": ["-started_at"],
            },
        ),
        migrations.CreateModel(
            name="Allergy",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "public_id",
                    models.UUIDField(default=carebridge.core.fields.new_public_id, editable=False, unique=True),
                ),
                ("substance", models.CharField(max_length=100)),
                ("display", models.CharField(max_length=200)),
                ("coded", models.BooleanField(default=True)),
                ("reaction", models.CharField(blank=True, max_length=200)),
                (
                    "severity",
                    models.CharField(
                        choices=[("mild", "Mild"), ("moderate", "Moderate"), ("severe", "Severe")],
                        default="moderate",
                        max_length=20,
                    ),
                ),
                ("recorded_at", models.DateTimeField()),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="allergies", to="patients.patient"
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="organisations.clinician"
                    ),
                ),
            ],
            options={
                "ordering": ["display"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("severity__in", ["mild", "moderate", "severe"])),
                        name="allergy_severity_known",
                    )
                ],
            },
        ),
        migrations.AddIndex(
            model_name="condition",
            index=models.Index(fields=["patient", "status"], name="clinical_co_patient_dcb2cf_idx"),
        ),
        migrations.AddConstraint(
            model_name="condition",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["active", "resolved"])), name="condition_status_known"
            ),
        ),
        migrations.AddIndex(
            model_name="consultation",
            index=models.Index(fields=["patient", "started_at"], name="clinical_co_patient_a36d77_idx"),
        ),
    ]
