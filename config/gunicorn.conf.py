"""How gunicorn serves the catalog: `gunicorn -c config/gunicorn.conf.py config.wsgi` (the Dockerfile, the
compose file's web service and the benchmark). Options given on the command line or in GUNICORN_CMD_ARGS win
over these; WEB_CONCURRENCY sets the number of worker processes.

Threaded workers ("gthread") that keep a client's connection open between its requests (HTTP keep-alive).
gunicorn's default "sync" workers close it after every answer: a browser opening a card asked for the page, its
stylesheet, script and thumbnails each on a new connection, an API script for each page, and across a network
each new connection costs a round trip before the request is sent. Measured on loopback, 100,000 models, 4
workers, the same requests asked in turn of both: an API search 3.7 → 3.2 ms (client p50), a model card 4.3 →
3.5 ms; requests per second at concurrency 8 alike (cards 454 and 446). An idle open connection waits in the
worker's main thread, not in one of its threads.

The price, under more clients than the machine can serve: a kept connection stays with the worker that took it,
so some workers queue more requests than others, and the slowest answers wait longer. The benchmark's load test
(50 clients, the answer cache on, a crawl running), asked of both in turn: 1,644 requests a second, p50 26 ms,
p99 74 ms, against 1,557, 31 and 57 ms with sync workers; 50 clients with every answer computed: 506 a second,
p95 167 ms, against 549 and 105 ms. Behind a proxy that keeps the clients' connections itself, sync workers
give the fairer queue: GUNICORN_CMD_ARGS="--worker-class sync --threads 1".
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
