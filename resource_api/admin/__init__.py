"""Internal routes for the portal: dead-lettered punches and their retry, the insights summary and chart.

They are not part of the public API (not in `/openapi.json`): only the auth server's own client, holding the
internal scope `resource:admin`, may call them, and it asks only for subscriptions the signed-in admin owns.
"""
