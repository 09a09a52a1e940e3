"""One shape for every API error, so a client parses failures in one place:

    {"error": {"status": 400, "code": "invalid", "message": "…",
               "fields": {"since": ["Enter a valid date."]}}}

`fields` is present only for validation errors, keyed by parameter or body field
(`non_field_errors` becomes the message). Unknown URLs and server errors under /api/
answer in the same shape instead of HTML pages.
"""

from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.views import exception_handler


def handle_exception(exc, context):
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API exception: a bug, which Django reports as a 500
    if isinstance(exc, exceptions.ValidationError):
        fields, message = _fields(exc.detail)
        body = _body(response.status_code, "invalid", message, fields=fields)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        body = _body(response.status_code, code, _text(exc.detail))
    else:  # Http404 and PermissionDenied, which DRF turns into its own answers
        code = "not_found" if response.status_code == 404 else "permission_denied"
        body = _body(response.status_code, code, _text(response.data.get("detail", "")))
    response.data = body
    return response


def not_found(request, exception=None):
    """Django's 404 handler: JSON under /api/, the site's page elsewhere."""
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse(
        _body(status.HTTP_404_NOT_FOUND, "not_found", "There is nothing at this address."),
        status=status.HTTP_404_NOT_FOUND,
    )


def bad_request(request, exception=None):
    """Django's 400 handler (a request it refuses before any view, e.g. a form with
    thousands of fields): JSON under /api/."""
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    return JsonResponse(
        _body(status.HTTP_400_BAD_REQUEST, "bad_request", "The request could not be read."),
        status=status.HTTP_400_BAD_REQUEST,
    )


def server_error(request):
    if not _is_api(request):
        return defaults.server_error(request)
    return JsonResponse(
        _body(
            status.HTTP_500_INTERNAL_SERVER_ERROR,
            "server_error",
            "Something went wrong on our side; it has been logged. Try again later.",
        ),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _body(status_code: int, code: str, message: str, *, fields=None) -> dict:
    error = {"status": status_code, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def _fields(detail) -> tuple[dict, str]:
    if not isinstance(detail, dict):
        return {}, " ".join(_messages(detail)) or "The request is not valid."
    # Django forms call errors of no one field "__all__", DRF "non_field_errors".
    general = _messages(detail.get("non_field_errors", [])) + _messages(detail.get("__all__", []))
    fields = {name: _messages(value) for name, value in detail.items()}
    fields.pop("non_field_errors", None)
    fields.pop("__all__", None)
    return fields, " ".join(general) or f"Some fields are not valid: {', '.join(fields)}."


def _messages(detail) -> list:
    """Flat messages; nested objects (a list's items, say) keep their structure."""
    if isinstance(detail, dict):
        return [{name: _messages(value) for name, value in detail.items()}]
    if isinstance(detail, list):
        flat = []
        for value in detail:
            flat.extend(_messages(value))
        return flat
    return [str(detail)]


def _text(detail) -> str:
    return " ".join(str(m) for m in _messages(detail)) if not isinstance(detail, str) else detail
