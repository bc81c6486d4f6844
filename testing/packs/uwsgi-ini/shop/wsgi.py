"""The shop's WSGI entry point for uWSGI."""

from shop.app import create_app

application = create_app()
