from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from carebridge.access.models import BreakGlassAccess
from carebridge.access.services import break_glass_review
from carebridge.accounts.models import AccessChange
from carebridge.accounts.services import access_change_review
from carebridge.audit.models import AuditAction, AuditObject
from carebridge.audit.services import audit_denial, audit_record
from carebridge.core.actor import Actor
from carebridge.core.errors import Invalid, add_to_form
from carebridge.core.roles import Role, role_of
from carebridge.privacy.forms import AuditSearchForm, BreakGlassReviewForm, ReviewNoteForm
from carebridge.privacy.selectors import (
    access_changes,
    audit_events_matching,
    audit_trail_rows,
    break_glass_accesses,
    events_during_break_glass,
)


def _require_privacy_officer(request) -> None:
    if role_of(request.user) != Role.PRIVACY_OFFICER:
        audit_denial(actor=Actor.from_request(request), object_type=AuditObject.PRIVACY, detail={"path": request.path})
        raise Http404


@require_GET
@login_required
def audit_search(request):
    _require_privacy_officer(request)
    form = AuditSearchForm(request.GET or None)
    criteria = form.cleaned_data if form.is_bound and form.is_valid() else {}
    # Reading the trail is itself recorded, so that the privacy office is accountable too. It is written
    # before the page is counted, so the count and the rows shown agree.
    audit_record(
        actor=Actor.from_request(request),
        action=AuditAction.SEARCH,
        object_type=AuditObject.AUDIT_TRAIL,
        detail={"criteria": {key: str(value) for key, value in criteria.items() if value}},
    )
    page = Paginator(audit_events_matching(**criteria), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "privacy/audit.html",
        {
            "form": form,
            "page": page,
            "rows": audit_trail_rows(page.object_list),
            "query": query.urlencode(),
        },
    )


@require_GET
@login_required
def break_glass_list(request):
    _require_privacy_officer(request)
    show_all = request.GET.get("show") == "all"
    return render(
        request,
        "privacy/break_glass.html",
        {"grants": break_glass_accesses(unreviewed_only=not show_all)[:200], "show_all": show_all},
    )


def _break_glass_page(request, grant: BreakGlassAccess, form: BreakGlassReviewForm, *, status: int = 200):
    """One emergency access: what was viewed during it, in the trail's readable form, and its review."""
    events = list(events_during_break_glass(grant))
    # What the clinician did is read from the trail, so reading it is recorded like any search of the trail.
    audit_record(
        actor=Actor.from_request(request),
        action=AuditAction.SEARCH,
        object_type=AuditObject.AUDIT_TRAIL,
        patient_id=grant.patient_id,
        detail={"criteria": {"break_glass": str(grant.pk)}},
    )
    return render(
        request,
        "privacy/break_glass_detail.html",
        {"grant": grant, "rows": audit_trail_rows(events), "form": form},
        status=status,
    )


@require_GET
@login_required
def break_glass_detail(request, grant_id: int):
    _require_privacy_officer(request)
    grant = get_object_or_404(break_glass_accesses(unreviewed_only=False), pk=grant_id)
    return _break_glass_page(request, grant, BreakGlassReviewForm())


@require_POST
@login_required
def break_glass_review_view(request, grant_id: int):
    _require_privacy_officer(request)
    grant = get_object_or_404(break_glass_accesses(unreviewed_only=False), pk=grant_id)
    form = BreakGlassReviewForm(request.POST)
    if form.is_valid():
        try:
            break_glass_review(
                actor=Actor.from_request(request),
                grant_id=grant_id,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except Invalid as problem:
            add_to_form(form, problem)
        else:
            messages.success(request, "Review recorded.")
            return redirect("privacy:break_glass")
    return _break_glass_page(request, grant, form, status=422)


@require_GET
@login_required
def access_change_list(request):
    _require_privacy_officer(request)
    show_all = request.GET.get("show") == "all"
    return render(
        request,
        "privacy/access_changes.html",
        {
            "changes": access_changes(unreviewed_only=not show_all)[:200],
            "show_all": show_all,
            "form": ReviewNoteForm(),
        },
    )


@require_POST
@login_required
def access_change_review_view(request, change_id: int):
    _require_privacy_officer(request)
    get_object_or_404(AccessChange, pk=change_id)
    form = ReviewNoteForm(request.POST)
    if form.is_valid():
        try:
            access_change_review(actor=Actor.from_request(request), change_id=change_id, note=form.cleaned_data["note"])
        except Invalid as problem:
            messages.error(request, problem.message)
        else:
            messages.success(request, "Review recorded.")
    else:
        messages.error(request, "Write what you concluded before recording the review.")
    return redirect("privacy:access_changes")
