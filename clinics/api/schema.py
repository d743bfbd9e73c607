"""The OpenAPI schema's error answers: every operation documents the errors it can give, so that
clients (and schemathesis) know a 400, 401, 403, 404 or 409 is part of the contract."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

ERRORS = {
    "400": "Bad input: each field named with what is wrong with it",
    "401": "No or bad credentials",
    "403": "Your role in this clinic does not allow this",
    "404": "No such object in your clinics",
    "409": "The object's state does not allow this (e.g. resuming a stopped course)",
}


class ApiSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        if direction == "response":
            for code, text in ERRORS.items():
                if code not in bodies:
                    error = OpenApiResponse(OpenApiTypes.OBJECT, description=text)
                    bodies[code] = self._get_response_for_code(error, code, direction=direction)
        return bodies
