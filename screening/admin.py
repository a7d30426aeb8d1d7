"""Admin for criteria sets, criteria and notes (fuller admin: issue 5)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import AuditEvent, CriteriaSet, Criterion, Note, Review, Screening, User

admin.site.register(User, UserAdmin)


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0
    fields = ("order", "code", "label", "fact", "operator", "value", "kind", "severity", "active")


@admin.register(CriteriaSet)
class CriteriaSetAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "is_primary", "active", "version")
    inlines = [CriterionInline]


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "order", "active")
    list_filter = ("kind", "active")




class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to admins, changed only by the application's own services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "actor", "screening", "ip_address", "detail")
    list_filter = ("action",)
    date_hierarchy = "created_at"


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ("screening", "decision", "neurologist", "created_at")
    list_filter = ("decision",)


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyAdmin):
    list_display = ("pk", "reference", "primary_verdict", "status", "created_at")
    list_filter = ("status", "primary_verdict")
