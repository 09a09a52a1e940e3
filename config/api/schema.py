"""The error answers every operation can give, added to the schema in one place
(a drf-spectacular postprocessing hook), so clients and schema checkers know them."""

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer", "description": "The HTTP status again."},
                "code": {"type": "string", "description": "e.g. invalid, not_found, throttled."},
                "message": {"type": "string", "description": "What went wrong, for people."},
                "fields": {
                    "type": "object",
                    "description": "Validation messages by parameter or field.",
                    "additionalProperties": {"type": "array", "items": {}},
                },
            },
        }
    },
}

_WHY = {
    "400": "Invalid parameters or body; `fields` says which and why.",
    "401": "A wrong or revoked token, or no sign-in where one is needed.",
    "403": "Signed in but not allowed (or the session's CSRF token is missing).",
    "404": "No such object, or one you may not see.",
    "429": "Too many calls: wait for the seconds in Retry-After.",
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            codes = ["400", "401", "403", "429"]
            if "{" in path:
                codes.append("404")
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": _WHY[code],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
