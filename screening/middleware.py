"""Nothing stored by caches unless it says so; the client's address behind a proxy; forms read only as UTF-8; no NUL
character from a cookie or a header reaches the database; an admin query that cannot be read is a 400; signed-in
staff sessions expire after a short idle time (patients keep the longer default)."""

import codecs
import ipaddress

from django.conf import settings
from django.core.exceptions import BadRequest
from django.db import DataError, NotSupportedError, OperationalError
from django.utils.cache import add_never_cache_headers
from django.views.defaults import bad_request


class NoStoreByDefaultMiddleware:
    """A response that says nothing about caching is not kept by browsers or proxies either: the pages say
    ``no-store`` themselves, but an error page, a 404 or a redirect to sign in (its address names the page) would
    otherwise be left to the cache's guess. First in the list, so that it sees every response; static files keep
    the caching WhiteNoise gives them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


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


def is_utf8(charset):
    try:
        return codecs.lookup(charset).name == "utf-8"
    except LookupError:
        return False


class FormCharsetMiddleware:
    """Every page sends its forms as UTF-8, and only UTF-8 is read. A post that says it is in another encoding gets
    the 400 page before anything reads it: Django refuses it with a 500 of its own (it raises while reading the
    form, then again while reporting that), and a multipart post in UTF-7 could put text into a draft that can no
    longer be shown. UTF-8 under another name ("utf8") is read as UTF-8."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        charset = request.content_params.get("charset")
        if charset and request.method == "POST":
            if not is_utf8(charset):
                raise BadRequest("A form posted in an encoding other than UTF-8.")
            request.encoding = "utf-8"
        return self.get_response(request)


class NulCharacterMiddleware:
    """PostgreSQL refuses a NUL character in any query, and a cookie or a header may carry one (a quoted cookie
    value's ``\\000`` is read as NUL): a session cookie with one made every page a 500, and a User-Agent with one
    made signing in a 500 (django-axes stores it). Such a cookie is dropped, as an unreadable one would be; a
    header loses its NUL characters."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in name + value for name, value in request.COOKIES.items()):
            request.COOKIES = {name: value for name, value in request.COOKIES.items() if "\x00" not in name + value}
        for key, value in request.META.items():
            if key.startswith("HTTP_") and "\x00" in value:
                request.META[key] = value.replace("\x00", "")
        return self.get_response(request)


class AdminQueryMiddleware:
    """An admin page whose query cannot be read gets the 400 page, not a 500. The admin passes a list's filter
    values on as they come: PostgreSQL refuses a NUL character in any query (``?kind=%00``; SQLite takes it), and
    text that is no address where an address is filtered (``?ip_address=abc``, on the audit log and django-axes'
    lists); SQLite refuses a number past 64 bits (``?id__in=9223372036854775808``), a broken pattern
    (``?detail__regex=(``) and a JSON field's containment lookups, which it does not have (``?value__contains=6``);
    the date drill-down cannot go past the year 9999 (``?created_at__year=9999``). The other pages read their
    queries through forms, which answer with a message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if in_admin(request) and any(
                "\x00" in text for name, values in request.GET.lists() for text in [name, *values]):
            raise BadRequest("A NUL character in an admin page's query.")

    def process_exception(self, request, exception):
        unreadable = isinstance(exception, (DataError, NotSupportedError, OverflowError, ValueError)) or (
            isinstance(exception, OperationalError) and "user-defined function raised exception" in str(exception))
        if unreadable and in_admin(request) and request.method == "GET" and request.GET:
            return bad_request(request, exception)
        return None


def in_admin(request):
    return request.resolver_match is not None and request.resolver_match.app_name == "admin"


class StaffIdleTimeoutMiddleware:
    """Every request by a signed-in user pushes the session's expiry ``STAFF_IDLE_SECONDS`` into the future."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            request.session.set_expiry(settings.STAFF_IDLE_SECONDS)
        return self.get_response(request)
