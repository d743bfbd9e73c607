"""The staff UI, on the Django admin: the site and its dashboard (`site`), the model pages
(`records`), the worklists (`worklists`), the action forms and pages (`forms`, `actions`) and a
staff member's calendar feed (`calendar`).

The pages register when `ClinicsConfig.ready` imports `records` and `worklists`, not here:
Django imports this package first when it builds the admin site (`site`), and registering
from here would register on a site that is then replaced.
"""
