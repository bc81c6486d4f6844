#!/bin/sh
# Production entrypoint: hooks and timeouts in gunicorn.conf.py, the process model here.
set -e
exec gunicorn --config gunicorn.conf.py --workers 1 --threads 1 --bind 0.0.0.0:8000 \
  "rates:create_app()"
