"""gunicorn settings for the web service: gevent workers, so an agent's long poll waits without holding a thread.

    gunicorn -c scripts/lib/gunicorn.conf.py --bind 127.0.0.1:5000 'broadcast:create_app()'

scripts/run, the end-to-end tests and the benchmarks start the service this way. Options given on the command
line or in GUNICORN_CMD_ARGS win over these (e.g. ``--workers 4`` on a bigger machine).

This file is read by gunicorn's master, before it forks: it imports nothing of ours, so the service's modules
are imported only in the workers, after gevent has patched the standard library there.
"""

import gc
import logging
import resource

import gevent
from gunicorn.workers.ggevent import GeventWorker

workers = 2
# Each waiting poll is a parked greenlet and an open socket, a few kilobytes: thousands per worker are fine.
# A worker accepts no more than this many connections at once, so keep it well above the number of agents.
worker_connections = 10_000
# Long polls end at once when a worker stops (see LongPollWorker); a request still running gets this long.
graceful_timeout = 5
OPEN_FILES = 65_536  # one per connection, and then some
FULL_GC_EVERY_S = 60.0


class LongPollWorker(GeventWorker):
    """gunicorn's gevent worker, which on stopping answers every waiting long poll at once (with nothing), so
    agents poll again, elsewhere, instead of holding the stop up for the whole graceful timeout."""

    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)
        gevent.spawn(_end_long_polls)  # out of the signal handler, like gunicorn's own handle_quit


def _end_long_polls():
    from broadcast.channels import wakeups

    wakeups.end_all_waiting()


worker_class = LongPollWorker


def post_worker_init(worker):
    """Keep the garbage collector's full passes out of people's requests.

    A full pass walks every tracked object: the loaded application (some 200,000 objects) and the state of
    each waiting poll (a hundred or so each). Run by CPython's own rule it came every few seconds with
    thousands of agents waiting, and paused the worker for 100 ms or more each time. So what the worker
    loaded is frozen (never walked again), the young generations are collected as usual, and the full pass
    runs once a minute."""
    # The service's own log lines with their level, as the scheduler writes them (scripts/run shows the terminal
    # the warnings and errors of web.log by that level); without this only warnings came out, without a level.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000)

    def full_passes():
        while True:
            gevent.sleep(FULL_GC_EVERY_S)
            gc.collect()

    gevent.spawn(full_passes)


def on_starting(server):
    """Raise the open-files limit (the workers inherit it): the default 1,024 would cap the waiting agents."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES if hard == resource.RLIM_INFINITY else min(OPEN_FILES, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        server.log.info("open-files limit raised from %d to %d", soft, wanted)
