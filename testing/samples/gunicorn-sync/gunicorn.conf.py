"""gunicorn settings that are not on the command line."""

import time

# Combined log format plus the request time in microseconds, as log pipelines like it.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" rid=%({x-request-id}i)s rt=%(D)s'
)
# Workers get this long to finish in-flight requests and their exit hook on SIGTERM.
graceful_timeout = 10
timeout = 30


def worker_exit(server, worker):
    # Stand-in for flushing buffered metrics to a collector before the worker goes away.
    server.log.info("worker %s: flushing metrics", worker.pid)
    time.sleep(2)


def on_exit(server):
    server.log.info("master: shut down")
