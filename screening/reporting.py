"""Error reports (emailed to ``ADMINS`` if it is ever set, and what Sentry-like tools read) without health data."""

from django.views.debug import SafeExceptionReporterFilter


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

    def get_safe_cookies(self, request):
        if not self.is_active(request):
            return super().get_safe_cookies(request)
        return {name: self.cleansed_substitute for name in getattr(request, "COOKIES", {})}

    def get_traceback_frame_variables(self, request, tb_frame):
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
