"""App configuration."""

from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = "HSCT Self-Check"

    def ready(self):
        from django.contrib.auth import signals

        from . import services

        signals.user_logged_in.connect(services.audit_login, dispatch_uid="audit_login")
        signals.user_logged_out.connect(services.audit_logout, dispatch_uid="audit_logout")
        signals.user_login_failed.connect(services.audit_login_failed, dispatch_uid="audit_login_failed")
