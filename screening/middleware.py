"""Signed-in staff sessions expire after a short idle time (patients keep the longer default)."""

from django.conf import settings


class StaffIdleTimeoutMiddleware:
    """Every request by a signed-in user pushes the session's expiry ``STAFF_IDLE_SECONDS`` into the future."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            request.session.set_expiry(settings.STAFF_IDLE_SECONDS)
        return self.get_response(request)
