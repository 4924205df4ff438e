"""The authserver service's extension instances, bound to an app in create_app."""

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from shared.db import make_db

db = make_db()
csrf = CSRFProtect()  # every form POST; client-authenticated endpoints are exempted in create_app
login_manager = LoginManager()  # portal accounts; the user loader is in authserver.accounts.access
