"""The REST API (`/api/v1/`): thin views over the same services and permission layer as the
admin, described by an OpenAPI 3 schema (drf-spectacular)."""
