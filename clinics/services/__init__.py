"""Business rules: every interface (admin, API, tasks, commands) calls these functions.

Each service is keyword-only, typed, runs in one transaction and raises
`django.core.exceptions.ValidationError` naming the field on bad input
(`clinics.core.vocab.LifecycleConflict` when the state does not allow the action).
"""
