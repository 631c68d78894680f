from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="nominated_pharmacy",
            field=models.CharField(blank=True, max_length=200),
        ),
    ]
