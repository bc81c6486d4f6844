from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: tuple[str, ...] = ()

    operations = (
        migrations.CreateModel(
            name="Post",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField()),
                ("published", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ("-published",)},
        ),
    )
