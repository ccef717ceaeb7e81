"""Serves the source's Flask app under the path the app is mounted at (CL_APP_PATH), so that url_for and redirects
include it. The proxy strips the mount path from requests (strip_app=True); this puts it into SCRIPT_NAME, where
Flask looks for it when it builds URLs.

The spec's CMD runs `flask --app cl_app_path:create_app run`; the app itself is found the way `flask run` finds
it: FLASK_APP when set (e.g. --param FLASK_APP=hello:app), else wsgi.py or app.py in /app.
"""
import os

from flask.cli import ScriptInfo


class MountedAt:
    """WSGI middleware: requests arrive without the mount path; SCRIPT_NAME carries it for URL building."""

    def __init__(self, wsgi_app, prefix):
        self.wsgi_app = wsgi_app
        self.prefix = prefix

    def __call__(self, environ, start_response):
        environ["SCRIPT_NAME"] = self.prefix + environ.get("SCRIPT_NAME", "")
        return self.wsgi_app(environ, start_response)


def create_app():
    app = ScriptInfo(app_import_path=os.environ.get("FLASK_APP") or None).load_app()
    prefix = os.environ.get("CL_APP_PATH", "").rstrip("/")
    if prefix:
        app.wsgi_app = MountedAt(app.wsgi_app, prefix)
    return app
