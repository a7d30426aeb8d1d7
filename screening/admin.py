"""Admin for criteria sets, criteria and notes (fuller admin: issue 5)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import CriteriaSet, Criterion, Note, Screening, User

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


@admin.register(Screening)
class ScreeningAdmin(admin.ModelAdmin):
    list_display = ("pk", "primary_verdict", "status", "created_at")
    list_filter = ("status", "primary_verdict")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
