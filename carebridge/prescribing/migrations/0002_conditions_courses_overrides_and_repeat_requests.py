import carebridge.core.fields
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clinical", "0001_initial"),
        ("organisations", "0001_initial"),
        ("patients", "0002_patient_nominated_pharmacy"),
        ("prescribing", "0001_initial"),
        ("scheduling", "0004_appointment_calendar_sequence"),
    ]

    operations = [
        migrations.CreateModel(
            name="RepeatRequest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "public_id",
                    models.UUIDField(default=carebridge.core.fields.new_public_id, editable=False, unique=True),
                ),
                ("note", models.CharField(blank=True, max_length=300)),
                ("requested_at", models.DateTimeField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for the surgery"),
                            ("approved", "Approved"),
                            ("refused", "Refused"),
                        ],
                        default="pending",
                        max_length=20,
                    ),
                ),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("refusal_reason", models.TextField(blank=True)),
            ],
            options={
                "ordering": ["requested_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="SafetyOverride",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "public_id",
                    models.UUIDField(default=carebridge.core.fields.new_public_id, editable=False, unique=True),
                ),
                ("kind", models.CharField(max_length=30)),
                ("message", models.TextField()),
                ("reason", models.TextField()),
                ("overridden_at", models.DateTimeField()),
            ],
            options={
                "ordering": ["overridden_at", "id"],
            },
        ),
        migrations.AddField(
            model_name="prescription",
            name="condition",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="clinical.condition",
            ),
        ),
        migrations.AddField(
            model_name="prescription",
            name="consultation",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="prescriptions",
                to="clinical.consultation",
            ),
        ),
        migrations.AddField(
            model_name="prescription",
            name="course",
            field=models.CharField(
                choices=[
                    ("acute", "Acute"),
                    ("continuous", "Repeat"),
                    ("continuous-repeat-dispensing", "Repeat dispensing"),
                ],
                default="acute",
                max_length=30,
            ),
        ),
        migrations.AddField(
            model_name="prescription",
            name="issue_number",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="prescription",
            name="issues_allowed",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="prescription",
            name="medicine_key",
            field=models.CharField(blank=True, max_length=60),
        ),
        migrations.AddField(
            model_name="prescription",
            name="previous",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="prescribing.prescription",
            ),
        ),
        migrations.AddField(
            model_name="prescription",
            name="review_date",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="prescription",
            constraint=models.CheckConstraint(
                condition=models.Q(("course__in", ["acute", "continuous", "continuous-repeat-dispensing"])),
                name="prescription_course_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="prescription",
            constraint=models.CheckConstraint(
                condition=models.Q(("issue_number__lte", models.F("issues_allowed"))),
                name="prescription_issue_within_allowed",
            ),
        ),
        migrations.AddField(
            model_name="repeatrequest",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="organisations.clinician",
            ),
        ),
        migrations.AddField(
            model_name="repeatrequest",
            name="issued",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="prescribing.prescription",
            ),
        ),
        migrations.AddField(
            model_name="repeatrequest",
            name="patient",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="repeat_requests", to="patients.patient"
            ),
        ),
        migrations.AddField(
            model_name="repeatrequest",
            name="prescription",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="repeat_requests",
                to="prescribing.prescription",
            ),
        ),
        migrations.AddField(
            model_name="repeatrequest",
            name="surgery",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="organisations.facility"
            ),
        ),
        migrations.AddField(
            model_name="safetyoverride",
            name="overridden_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="organisations.clinician"
            ),
        ),
        migrations.AddField(
            model_name="safetyoverride",
            name="prescription",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="overrides", to="prescribing.prescription"
            ),
        ),
        migrations.AddIndex(
            model_name="repeatrequest",
            index=models.Index(fields=["surgery", "status"], name="prescribing_surgery_ad0cc1_idx"),
        ),
        migrations.AddConstraint(
            model_name="repeatrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["pending", "approved", "refused"])),
                name="repeat_request_status_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="repeatrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "refused"), _negated=True),
                    models.Q(("refusal_reason", ""), _negated=True),
                    _connector="OR",
                ),
                name="repeat_request_refusal_has_reason",
            ),
        ),
        migrations.AddConstraint(
            model_name="repeatrequest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "pending")), fields=("prescription",), name="repeat_request_one_pending"
            ),
        ),
    ]
