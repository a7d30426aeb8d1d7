"""URLs of the patient self-check. No URL carries answers or codes."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("check/start/", views.start, name="start"),
    path("check/review/", views.review, name="review"),
    path("check/result/", views.result_create, name="result_create"),
    path("check/saved/", views.saved, name="saved"),
    path("check/resume/", views.resume, name="resume"),
    path("check/<slug:slug>/", views.step, name="step"),
    path("result/", views.result, name="result"),
    path("result/submit/", views.submit, name="submit"),
    path("result/submitted/", views.submitted, name="submitted"),
    path("status/", views.status, name="status"),
    path("status/yours/", views.status_detail, name="status_detail"),
    path("status/withdraw/", views.withdraw, name="withdraw"),
]
