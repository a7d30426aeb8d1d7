"""Error reports (emailed to ``ADMINS`` if it is ever set, and what Sentry-like tools read) without health data."""

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

# META entries that repeat the query string (or a page's, the referrer's): the queue's filters name a reference
# beside a verdict or a decision
QUERY_BEARING_META = ("QUERY_STRING", "RAW_URI", "REQUEST_URI", "HTTP_REFERER")


class NoHealthDataReporterFilter(SafeExceptionReporterFilter):
    """Every form value, every cookie (the draft and result cookies open a person's answers) and every local variable
    of the traceback is starred: answers run through this app's forms and functions everywhere, so none is marked
    one by one with ``sensitive_variables``. With ``DEBUG`` on (a developer's own data), as Django's."""

    def get_post_parameters(self, request):
        if request is None or not self.is_active(request):
            return super().get_post_parameters(request)
        cleansed = request.POST.copy()
        for name in cleansed:
            cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        if self.is_active(request):
            meta.update({name: self.cleansed_substitute for name in QUERY_BEARING_META if name in meta})
        return meta

    def get_safe_cookies(self, request):
        if not self.is_active(request):
            return super().get_safe_cookies(request)
        return {name: self.cleansed_substitute for name in getattr(request, "COOKIES", {})}

    def get_traceback_frame_variables(self, request, tb_frame):
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]


class NoHealthDataExceptionReporter(ExceptionReporter):
    """Django's report, with the query string's values starred too (its GET items and the URL's query), which the
    filter is never asked about: ``/review/?reference=R-…&verdict=unlikely`` pairs a person with their result."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if self.request is not None and self.filter.is_active(self.request):
            data["request_GET_items"] = [(name, self.filter.cleansed_substitute) for name in self.request.GET]
            data["request_insecure_uri"] = data["request_insecure_uri"].split("?", 1)[0]
        return data
