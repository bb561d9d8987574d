"""How gunicorn serves the catalog: `gunicorn -c config/gunicorn.conf.py config.wsgi` (the Dockerfile, the
compose file's web service and the benchmark). Options given on the command line or in GUNICORN_CMD_ARGS win
over these; WEB_CONCURRENCY sets the number of worker processes.

Threaded workers ("gthread") keep a client's connection open between its requests (HTTP keep-alive), so a
browser asks for a page and its images on one connection. Behind a proxy that keeps the clients' connections
itself, sync workers give the fairer queue under overload: GUNICORN_CMD_ARGS="--worker-class sync --threads 1".
(benchmarks/README.md has the measurements.)
"""

import os

bind = "0.0.0.0:8000"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1)))
worker_class = "gthread"
# Two requests at a time a process: one runs Python while the other waits on PostgreSQL. Each thread keeps its
# own database connection (CONN_MAX_AGE), so workers x threads connections in all.
threads = 2
# Seconds an idle connection is kept open for its next request (gunicorn's default, 2, is shorter than the gap
# between a page and the requests a browser makes for its images).
keepalive = 5
accesslog = "-"
