from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_audit_object_vocabulary"),
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
                    ("repeat_request", "Repeat prescription request"),
                    ("consultation", "Consultation"),
                    ("condition", "Problem (condition)"),
                    ("allergy", "Allergy"),
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
    ]
