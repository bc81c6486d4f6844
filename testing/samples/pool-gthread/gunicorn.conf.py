"""gunicorn settings that are not on the command line."""

graceful_timeout = 10
timeout = 30


def post_fork(server, worker):
    # Each worker loads its own copy of the zone table after the fork: the table is rebuilt
    # from the carrier's file, not shared with the master.
    from rates import zones

    zones.load()
    server.log.info("worker %s: zone table loaded (%d MB)", worker.pid, zones.size_mb())
