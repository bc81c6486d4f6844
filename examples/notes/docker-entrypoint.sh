#!/bin/sh
# Production entrypoint: bring the schema up to date, then serve.
set -e
python -m notes.migrate
exec gunicorn --bind 0.0.0.0:8000 --access-logfile - "notes:create_app()"
