"""URLs of the patient self-check and the neurologist workspace. No URL carries answers or codes."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import review_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("check/start/", views.start, name="start"),
    path("check/review/", views.review, name="review"),
    path("check/result/", views.result_create, name="result_create"),
    path("check/save/", views.answers_save, name="answers_save"),
    path("check/saved/", views.saved, name="saved"),
    path("check/resume/", views.resume, name="resume"),
    path("check/<slug:slug>/", views.step, name="step"),
    path("result/", views.result, name="result"),
    path("result/submit/", views.submit, name="submit"),
    path("result/submitted/", views.submitted, name="submitted"),
    path("status/", views.status, name="status"),
    path("status/yours/", views.status_detail, name="status_detail"),
    path("status/reply/", views.reply, name="reply"),
    path("status/withdraw/", views.withdraw, name="withdraw"),
    path("status/withdrawn/", views.withdrawn, name="withdrawn"),
    # Neurologist workspace
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", views.post_only("queue")(auth_views.LogoutView.as_view()), name="logout"),
    path("accounts/keepalive/", review_views.keepalive, name="keepalive"),
    path("review/", review_views.queue, name="queue"),
    path("review/export.csv", review_views.export, name="review_export"),
    path("review/<int:pk>/", review_views.detail, name="review_detail"),
    path("review/<int:pk>/decide/", review_views.decide, name="review_decide"),
    path("review/<int:pk>/release/", review_views.release, name="review_release"),
    path("review/<int:pk>/rescore/", review_views.rescore, name="review_rescore"),
]
