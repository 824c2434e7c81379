"""WSGI entry point."""

import os

from django.core.wsgi import get_wsgi_application
from django.utils.http import parse_header_parameters

from parkingops import RAW_CONTENT_TYPE

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parkingops.settings")


def _guard_content_type(app):
    """Keep a Content-Type Django cannot parse from becoming a 500.

    Django raises ValueError while building the request for a header such as
    ``application/json; charset*=x''y``, before any view runs. The push must answer such a
    request ``1400 bad_body`` and log it, so the header is swapped for an unsupported one and
    the original is kept in the environ, where the push view reads it for its log row.
    """

    def guarded(environ, start_response):
        content_type = environ.get("CONTENT_TYPE", "")
        try:
            parse_header_parameters(content_type)
        except ValueError:
            environ[RAW_CONTENT_TYPE] = content_type
            environ["CONTENT_TYPE"] = "application/x-unparseable"
        return app(environ, start_response)

    return guarded


application = _guard_content_type(get_wsgi_application())
