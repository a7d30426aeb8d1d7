"""The client's address behind a proxy; signed-in staff sessions expire after a short idle time (patients keep the
longer default)."""

import ipaddress

from django.conf import settings


class ClientAddressMiddleware:
    """Behind the TLS proxy (``BEHIND_TLS_PROXY``) every request comes from the proxy's address, so every patient
    would share one limit on code lookups, and the audit log would name the proxy. The client's address is then the
    last entry of X-Forwarded-For, the one the proxy appended (earlier ones are whatever the client sent). Without a
    proxy the header is ignored: anyone can send it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.BEHIND_TLS_PROXY:
            address = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
            try:
                request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(without_port(address)))
            except ValueError:
                pass  # no usable entry: the proxy's own address stays
        return self.get_response(request)


def without_port(address):
    """ "203.0.113.9:51234" → "203.0.113.9", "[2001:db8::1]:443" → "2001:db8::1"; a bare address as it is."""
    if address.startswith("["):
        return address[1:].partition("]")[0]
    return address.partition(":")[0] if address.count(":") == 1 else address


class StaffIdleTimeoutMiddleware:
    """Every request by a signed-in user pushes the session's expiry ``STAFF_IDLE_SECONDS`` into the future."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            request.session.set_expiry(settings.STAFF_IDLE_SECONDS)
        return self.get_response(request)
