"""``manage.py seed_demo_users``: a demo neurologist and a demo admin for local use, with their credentials printed.

Refuses to run in production (``DJANGO_ENV=production``). Run again to get fresh passwords.
"""

import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from screening.models import User

DEMO_USERS = (("neurologist", False), ("admin", True))


class Command(BaseCommand):
    help = "Create (or reset) the demo neurologist and admin for local use and print their credentials."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Demo users are for local use only; refusing in production.")
        group = Group.objects.get(name="Neurologists")
        for username, is_admin in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.is_staff = user.is_superuser = is_admin
            user.save()
            user.groups.add(group)
            self.stdout.write(f"Demo {'admin' if is_admin else 'neurologist'}: {username} / {password}")
