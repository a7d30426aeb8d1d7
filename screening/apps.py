"""App configuration."""

from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = "HSCT Self-Check"
