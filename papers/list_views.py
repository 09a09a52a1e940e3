"""Reading-list pages: parse the request, call one function of papers.lists, render.

Every write finds its list through `lists.owned_by(request.user)`: another reader's list
id in a URL or a form is "not found" (or a form error) and changes nothing. Writes answer
htmx with the changed fragment and a form without JavaScript with a redirect back.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST

from papers import exports, lists
from papers.list_forms import ItemForm, ListForm, ListImportForm, MoveForm, SaveForm
from papers.models import ListItem, Paper, ReadingList
from papers.views import go_back, reader_required

ITEMS_PER_PAGE = 100


def _readable(request, pk) -> ReadingList:
    return get_object_or_404(lists.visible_to(request.user).select_related("owner"), pk=pk)


def _shared(request, token) -> ReadingList:
    return get_object_or_404(
        lists.shared_with(request.user).select_related("owner"), share_token=token
    )


def _owned(request, pk) -> ReadingList:
    return get_object_or_404(lists.owned_by(request.user), pk=pk)


def _owned_item(request, pk, item_pk) -> ListItem:
    items = ListItem.objects.select_related("paper", "reading_list")
    return get_object_or_404(
        items, pk=item_pk, reading_list_id=pk, reading_list__owner=request.user
    )


def _list_url(reading_list, page=1, item=None) -> str:
    url = reverse("list", args=[reading_list.pk])
    if page > 1:
        url += f"?page={page}"
    return url + (f"#item-{item.pk}" if item else "")


# Lists


@require_http_methods(["GET", "POST"])
@reader_required
def my_lists(request):
    form = ListForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            reading_list = lists.create_list(owner=request.user, **form.cleaned_data)
        except lists.ListError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Created the list “{reading_list.name}”.")
            return redirect(_list_url(reading_list))
    context = {
        "reading_lists": lists.with_counts(lists.owned_by(request.user)),
        "form": form,
    }
    return render(request, "lists/my_lists.html", context, status=400 if form.errors else 200)


def list_detail(request, pk):
    return _list_page(request, _readable(request, pk), by_link=False)


def shared_list(request, token):
    return _list_page(request, _shared(request, token), by_link=True)


def _list_page(request, reading_list, *, by_link):
    context = _items_context(request, reading_list, request.GET.get("page"))
    if by_link:
        exports_at = [
            reverse("list-shared-export", args=[reading_list.share_token, fmt])
            for fmt in exports.FORMATS
        ]
    else:
        exports_at = [
            reverse("list-export", args=[reading_list.pk, fmt]) for fmt in exports.FORMATS
        ]
    context |= {
        "exports": zip(("BibTeX", "RIS", "CSV"), exports_at, strict=True),
        "share_url": request.build_absolute_uri(
            reverse("list-shared", args=[reading_list.share_token])
        ),
    }
    return render(request, "lists/list_detail.html", context)


def _items_context(request, reading_list, page_number) -> dict:
    page = Paginator(lists.items_of(reading_list), ITEMS_PER_PAGE).get_page(page_number)
    return {
        "reading_list": reading_list,
        "page": page,
        "is_owner": reading_list.owner_id == request.user.pk,
        "statuses": ListItem.Status.choices,
    }


@require_http_methods(["GET", "POST"])
@reader_required
def edit_list(request, pk):
    reading_list = _owned(request, pk)
    initial = {
        "name": reading_list.name,
        "description": reading_list.description,
        "visibility": reading_list.visibility,
    }
    form = ListForm(request.POST or None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            lists.update_list(reading_list, **form.cleaned_data)
        except lists.ListError as exc:
            form.add_error("name", str(exc))
            reading_list.refresh_from_db()
        else:
            messages.success(request, "Saved the name, description and visibility of the list.")
            return redirect(_list_url(reading_list))
    context = {
        "reading_list": reading_list,
        "form": form,
        "share_url": request.build_absolute_uri(
            reverse("list-shared", args=[reading_list.share_token])
        ),
    }
    return render(request, "lists/edit.html", context, status=400 if form.errors else 200)


@require_POST
@reader_required
def share_list(request, pk):
    reading_list = _owned(request, pk)
    lists.new_share_link(reading_list)
    messages.success(request, "Made a new secret link; the old one no longer opens the list.")
    return redirect("list-edit", pk=reading_list.pk)


@require_http_methods(["GET", "POST"])
@reader_required
def delete_list(request, pk):
    reading_list = _owned(request, pk)
    if request.method == "POST":
        lists.delete_list(reading_list)
        messages.success(request, f"Deleted the list “{reading_list.name}”.")
        return redirect("lists")
    count = reading_list.items.count()
    return render(request, "lists/delete.html", {"reading_list": reading_list, "count": count})


def export_list(request, pk, fmt):
    return _export(request, _readable(request, pk), fmt)


def export_shared(request, token, fmt):
    return _export(request, _shared(request, token), fmt)


def _export(request, reading_list, fmt):
    chosen = exports.FORMATS[fmt]
    site_url = request.build_absolute_uri("/").rstrip("/")
    text = chosen.write(lists.items_of(reading_list), site_url=site_url)
    response = HttpResponse(text, content_type=chosen.content_type)
    filename = f"{slugify(reading_list.name) or 'reading-list'}.{chosen.extension}"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_http_methods(["GET", "POST"])
@reader_required
def import_list(request, pk):
    reading_list = _owned(request, pk)
    form = ListImportForm(request.POST or None, request.FILES or None)
    report = None
    if form.is_bound and form.is_valid():
        report = lists.import_into_list(reading_list, form.cleaned_data["records"])
        form = ListImportForm()
    context = {"reading_list": reading_list, "form": form, "report": report}
    return render(request, "lists/import.html", context, status=400 if form.errors else 200)


# Items


@require_POST
@reader_required
def edit_item(request, pk, item_pk):
    item = _owned_item(request, pk, item_pk)
    form = ItemForm(request.POST)
    if form.is_valid():
        lists.update_item(item, **form.cleaned_data)
    if request.htmx:
        context = {
            "item": item,
            "reading_list": item.reading_list,
            "statuses": ListItem.Status.choices,
            "item_form": form,
        }
        return render(request, "lists/_item_form.html", context)
    if form.errors:
        messages.error(request, _first_error(form))
    else:
        messages.success(request, f"Saved your note on “{item.paper.title}”.")
    return redirect(_list_url(item.reading_list, item=item))


@require_POST
@reader_required
def move_item(request, pk, item_pk):
    item = _owned_item(request, pk, item_pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect(_list_url(item.reading_list, item=item))
    place = lists.move_item(item, to=form.cleaned_data["to"])
    if request.htmx:
        context = _items_context(request, item.reading_list, request.POST.get("page"))
        return render(request, "lists/_items.html", context | {"moved": item})
    page = (place - 1) // ITEMS_PER_PAGE + 1
    return redirect(_list_url(item.reading_list, page=page, item=item))


@require_POST
@reader_required
def remove_item(request, pk, item_pk):
    item = _owned_item(request, pk, item_pk)
    lists.remove_paper(item.reading_list, item.paper)
    if request.htmx:
        return render(request, "lists/_item_removed.html", {"item": item})
    messages.success(request, f"Removed “{item.paper.title}” from the list.")
    return redirect(_list_url(item.reading_list))


# Saving a paper from its card or page


@require_http_methods(["GET", "POST"])
@reader_required
def save_paper(request, paper_pk):
    paper = get_object_or_404(Paper, pk=paper_pk)
    if request.method == "GET":
        return _save_control(request, paper)
    form = SaveForm(request.user, request.POST)
    message = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["add"]:
                lists.add_paper(data["add"], paper)
                message = f"Saved to “{data['add'].name}”."
            elif data["remove"]:
                lists.remove_paper(data["remove"], paper)
                message = f"Removed from “{data['remove'].name}”."
            else:
                created = lists.create_list(
                    owner=request.user, name=data["new_list"], papers=[paper]
                )
                message = f"Saved to your new list “{created.name}”."
        except lists.ListError as exc:
            form.add_error(None, str(exc))
    if not form.errors and not request.htmx:
        messages.success(request, message)
        return go_back(request, paper)
    return _save_control(request, paper, form=form, message=message)


def _save_control(request, paper, *, form=None, message=""):
    """The save menu: as a fragment for htmx, else as a page of its own."""
    back = (
        request.POST.get("next")
        or request.GET.get("next")
        or request.headers.get("HX-Current-URL", "")
    )
    # It is shown as a link: only an address of this site, never a `javascript:` one.
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = ""
    context = {
        "paper": paper,
        "saved": lists.saved_lists(request.user, [paper]),
        "save_open": request.method == "POST" or not request.htmx,
        "save_form": form,
        "save_message": message,
        "save_next": back or paper.get_absolute_url(),
    }
    if request.htmx:
        return render(request, "papers/_save.html", context)
    status = 400 if form is not None and form.errors else 200
    return render(request, "lists/save.html", context, status=status)


def _first_error(form) -> str:
    for errors in form.errors.values():
        return f"Nothing was changed: {errors[0]}"
    return ""
