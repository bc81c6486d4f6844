#!/bin/sh
# Production entrypoint: settings from gunicorn.conf.py, the access log on stdout for the
# platform's log collector.
set -e
exec gunicorn --config gunicorn.conf.py --workers 2 --bind 0.0.0.0:8000 \
  --access-logfile - "inventory:create_app()"
