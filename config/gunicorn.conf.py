"""How gunicorn serves the catalog: `gunicorn -c config/gunicorn.conf.py config.wsgi` (the Dockerfile, the
compose file's web service and the benchmark). Options given on the command line or in GUNICORN_CMD_ARGS win
over these; WEB_CONCURRENCY sets the number of worker processes.

Threaded workers ("gthread") that keep a client's connection open between its requests (HTTP keep-alive).
gunicorn's default "sync" workers close it after every answer: a browser opening a card asked for the page, its
stylesheet, script and thumbnails each on a new connection, an API script for each page, and across a network
each new connection costs a round trip before the request is sent. Measured on loopback, 100,000 models, 4
workers, the same requests asked in turn of both: an API search 3.7 → 3.2 ms (client p50), a model card 4.3 →
3.5 ms; requests per second at concurrency 8 alike (cards 454 and 446). An idle open connection waits in the worker's
main thread, not in one of its threads.
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
