#!/bin/sh
# Container entrypoint: apply pending migrations, then hand the process over to gunicorn.
set -e

python -m migrations.apply

exec gunicorn app:app --bind 0.0.0.0:5000
