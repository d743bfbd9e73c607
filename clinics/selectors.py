"""Read-side queries shared by the admin, the API and the tasks."""
