"""The pure core: no database, no settings; each module importable with Django unconfigured."""
