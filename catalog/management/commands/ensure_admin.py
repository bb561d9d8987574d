"""`manage.py ensure_admin`: make sure an admin login exists, and say what it is."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the admin login 'admin' with a random password when no superuser exists, and print it."

    def handle(self, *args, **options) -> None:
        users = get_user_model()
        credentials = settings.DATA_DIR / "admin-credentials.txt"
        if users.objects.filter(is_superuser=True).exists():
            where = f" (first password kept in {credentials})" if credentials.exists() else ""
            self.stdout.write(f"Admin login exists{where}.")
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser("admin", "admin@localhost", password)
        credentials.parent.mkdir(parents=True, exist_ok=True)
        credentials.write_text(f"username: admin\npassword: {password}\n")
        credentials.chmod(0o600)
        self.stdout.write(self.style.SUCCESS(f"Admin login created: username admin, password {password}"))
        self.stdout.write(f"(kept in {credentials}; change it in the admin)")
