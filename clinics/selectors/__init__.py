"""Reads shared by the admin, the API and the tasks; each module one kind of question."""
