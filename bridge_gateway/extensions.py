"""The bridge_gateway service's extension instances, bound to an app in create_app."""

from shared.db import make_db

db = make_db()
