# gunicorn settings, read at start (https://docs.gunicorn.org/en/stable/settings.html)
import multiprocessing
import os

bind = "0.0.0.0:8000"
workers = multiprocessing.cpu_count() * 2 + 1
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
loglevel = "debug"
accesslog = "-"
