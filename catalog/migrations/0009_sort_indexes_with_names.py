"""Every sort's index carries each model's name and hidden flag, as the downloads index does since 0008: a search
in a sort (catalog/filters.py, searched_in_order) asks for the models whose name holds the words apart from those
whose text does, and walks the sort's index until a page of such names is found. With the names in the index
that walk reads no table rows; for a word of two letters, which no trigram serves, PostgreSQL reads the whole
index (a few MB at 100,000 models) instead of the whole table.

The date sorts' indexes (NULLS LAST) are written in SQL, as in 0005; on SQLite, which has no INCLUDE, they and
the others stay as they were."""

from django.db import migrations, models

from catalog.migrations._postgresql import date_sort_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_downloads_index_with_names"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="model", name="model_favorites_idx"),
        migrations.RemoveIndex(model_name="model", name="model_rating_idx"),
        migrations.RemoveIndex(model_name="model", name="model_images_idx"),
        migrations.AddIndex(
            model_name="model",
            index=models.Index(
                fields=["-favorite_count", "-id"], include=("name", "hidden"), name="model_favorites_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="model",
            index=models.Index(
                fields=["-rating", "-id"], include=("name", "hidden"), name="model_rating_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="model",
            index=models.Index(
                fields=["-image_count", "-id"], include=("name", "hidden"), name="model_images_idx"
            ),
        ),
        migrations.RunPython(date_sort_indexes(" INCLUDE (name, hidden)"), date_sort_indexes("")),
    ]
