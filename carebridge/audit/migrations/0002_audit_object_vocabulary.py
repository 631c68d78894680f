from django.db import migrations, models

SIGN_IN_ACTIONS = ("sign_in", "sign_out", "sign_in_failed")


def sign_ins_are_not_clinic_sessions(apps, schema_editor):
    # "session" used to mean both a sign-in and a clinician's weekly clinic session; sign-ins now have
    # their own object type so the trail can label each.
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditEvent.objects.filter(action__in=SIGN_IN_ACTIONS, object_type="session").update(object_type="sign_in")


def sign_ins_back_to_session(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditEvent.objects.filter(action__in=SIGN_IN_ACTIONS, object_type="sign_in").update(object_type="session")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="object_type",
            field=models.CharField(
                choices=[
                    ("patient", "Patient record"),
                    ("patient_registration", "Patient registration"),
                    ("patient_search", "Patient search"),
                    ("portal_invitation", "Portal invitation"),
                    ("break_glass", "Emergency access"),
                    ("appointment", "Appointment"),
                    ("appointment_booking", "Appointment booking"),
                    ("own_appointments", "Own appointments"),
                    ("day_list", "Day list"),
                    ("clinician_day", "Clinician's day list"),
                    ("rebooking_list", "Appointments to rebook"),
                    ("slot", "Slot"),
                    ("slots", "Slots"),
                    ("session", "Clinic session"),
                    ("schedules", "Clinic schedules"),
                    ("schedule_exception", "Schedule exception"),
                    ("opening_hours", "Opening hours"),
                    ("prescription", "Prescription"),
                    ("referral", "Referral"),
                    ("facility", "Facility"),
                    ("clinician", "Clinician"),
                    ("staff_member", "Staff member"),
                    ("user", "Login"),
                    ("sign_in", "Sign-in"),
                    ("api_token", "API token"),
                    ("dataset", "Data set"),
                    ("audit_trail", "Audit trail"),
                    ("privacy", "Privacy pages"),
                ],
                max_length=60,
            ),
        ),
        migrations.RunPython(sign_ins_are_not_clinic_sessions, sign_ins_back_to_session, elidable=True),
    ]
