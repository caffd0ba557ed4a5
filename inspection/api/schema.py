"""The OpenAPI document tells the whole truth (issue 21): every operation lists every status it can answer, with
the error body's shape. The error answers come from generic causes (authentication, permissions, throttling,
the parsers, `inspection.api.errors`), so they are added here for every operation, the ones to come included,
rather than on each view."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

# `{"detail": "…"}`: everything but field errors (DRF's exceptions and `inspection.api.errors`).
ERROR = ResolvedComponent(
    name="Error",
    type=ResolvedComponent.SCHEMA,
    object="Error",
    schema={
        "type": "object",
        "properties": {"detail": {"type": "string", "description": "What went wrong, in the caller's language."}},
        "required": ["detail"],
    },
)
# `{"field": ["…"], "list": {"0": {"field": ["…"]}}, "non_field_errors": ["…"]}`: the input's errors by field,
# nested as the request (`inspection.api.errors.nest_errors`).
FIELD_ERRORS = ResolvedComponent(
    name="FieldErrors",
    type=ResolvedComponent.SCHEMA,
    object="FieldErrors",
    schema={
        "type": "object",
        "description": (
            "Messages by field, nested as the request: a list's items by their index "
            '(`{"commodities": {"1": {"cn_code": ["…"]}}}`); a message on the whole input under `non_field_errors`.'
        ),
        "additionalProperties": {
            "anyOf": [
                {"type": "array", "items": {"type": "string"}},
                {"$ref": "#/components/schemas/FieldErrors"},
            ]
        },
    },
)

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
DESCRIPTIONS = {
    "400": 'The input is refused: messages by field (`FieldErrors`), or `{"detail"}` for a body that does not '
    "parse or a rule on the whole request. Nothing is stored.",
    "401": "No credentials, or a key that is unknown, revoked or expired.",
    "403": "The caller's role may not do this.",
    "404": "No such resource, or not the caller's to see (never a 403); for a list, a page beyond the last.",
    "409": "The consignment's status does not allow this step, or another user is working on it: try again later.",
    "415": "The body's Content-Type is not one this operation reads.",
    "422": "This Idempotency-Key was used for another request: use a new key for a new request.",
    "429": "Too many requests (per user, per token, anonymous, or a locked login): wait `Retry-After` seconds.",
}


class ContractAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the error answers each operation can give."""

    def is_excluded(self) -> bool:
        # The router's root again with a format suffix (`/api/v1/.json`): the same answer, left out.
        return "{format}" in self.path or super().is_excluded()

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            # A filter's label is its parameter's description; as a title too it would name the generated
            # clients' types in the language of whoever fetched the schema.
            parameter.get("schema", {}).pop("title", None)
            if parameter["in"] == "query":
                # An empty value is as if the parameter were left out (filters, pages: what forms send).
                parameter["allowEmptyValue"] = True
            if parameter["in"] == "query" and parameter["name"] == "page":
                parameter["schema"]["minimum"] = 1  # `?page=0` is a 404, like a page beyond the last
        for component in (ERROR, FIELD_ERRORS):
            registry.register_on_missing(component)
        responses = operation["responses"]
        for code in self._error_statuses(operation):
            if code not in responses:
                responses[code] = self._error_response(code)
        return operation

    def _error_statuses(self, operation) -> list[str]:
        parameters = operation.get("parameters", [])
        where = {p["in"] for p in parameters}
        open_to_all = any(isinstance(p, AllowAny) for p in self.view.get_permissions())
        codes = ["401", "429"] if open_to_all else ["401", "403", "429"]
        if self.method in UNSAFE or where & {"query", "header"}:
            codes.append("400")
        # a view may answer 404 without a path parameter: one that hides itself from the roles it is not for
        if "path" in where or self._is_list_view() or "404" in getattr(self.view, "contract_statuses", ()):
            codes.append("404")
        if self.method in UNSAFE and not open_to_all:
            codes.append("409")
        if "requestBody" in operation:
            codes.append("415")
        if any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in parameters):
            codes.append("422")
        return sorted(codes)

    def _error_response(self, code: str) -> dict:
        schema = {"anyOf": [FIELD_ERRORS.ref, ERROR.ref]} if code == "400" else ERROR.ref
        response = {"description": DESCRIPTIONS[code], "content": {"application/json": {"schema": schema}}}
        if code == "429":
            response["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait, when known."}
            }
        return response
