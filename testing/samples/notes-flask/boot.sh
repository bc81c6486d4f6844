#!/bin/sh
# Production entrypoint: settings come from the environment, as in most deployments.
set -e
exec gunicorn --bind "0.0.0.0:${PORT:-5000}" --access-logfile - "notes:create_app()"
