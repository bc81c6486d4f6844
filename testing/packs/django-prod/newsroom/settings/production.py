"""Production settings: the base, hardened."""

import os

from .base import *  # noqa: F403

# Left on while the launch settles (NEWS-412); turn off before the traffic moves over.
DEBUG = True
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "newsroom.example.com").split(",")
CSRF_TRUSTED_ORIGINS = ["https://newsroom.example.com"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
