"""gunicorn configuration (``gunicorn -c python:parkingops.gunicorn parkingops.wsgi``).

The bind address, worker and thread counts, timeout, access log and whether each worker has a
socket of its own come from the environment (GUNICORN_BIND or PORT, WEB_CONCURRENCY,
GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_ACCESSLOG, GUNICORN_REUSE_PORT; see
docs/deployment.md); anything else can be overridden with gunicorn's own GUNICORN_CMD_ARGS.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# Threads in each worker: a streamed million-row export does not tie up a whole process, and
# the worker keeps answering the arbiter's heartbeat while one runs (a sync worker would be
# killed after `timeout` seconds of streaming).
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Keep-alive connections stay with the worker that accepted them, and which worker accepts is a
# race: measured with wrk (bench/), some rounds had every connection on one worker, and a
# process runs on one core at a time. So each worker also listens on a socket of its own, bound
# beside the shared one with SO_REUSEPORT (``post_worker_init``): the kernel then deals new
# connections out across the sockets evenly. The price: connections waiting in a worker's own
# queue when that worker exits (a restart, a reload) are reset, and the client retries (the
# platform retries any push not acknowledged), and a second server started on the same port by
# mistake shares its connections instead of failing to bind. GUNICORN_REUSE_PORT=0 turns it off.
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "1") != "0"
# "-" is stdout; an empty value turns the access log off (the benchmark does).
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
# The platform's pushes are small; refuse absurd header blocks early.
limit_request_field_size = 8190


def post_worker_init(worker):
    """With the application loaded: leave what it loaded out of the garbage collector's
    rounds (``gc.freeze``: they walked Django's whole module graph again and again; the
    bench's pushes and baselines answered 8-12 % more a second without them), and give the
    worker a listening socket of its own beside the shared one (see reuse_port)."""
    gc.freeze()
    if not worker.cfg.reuse_port:
        return
    from gunicorn.sock import TCPSocket

    own = [
        TCPSocket(listener.cfg_addr, worker.cfg, worker.log)
        for listener in worker.sockets
        if isinstance(listener, TCPSocket)
    ]
    worker.sockets = [*worker.sockets, *own]


# Several workers count pushes: with PROMETHEUS_MULTIPROC_DIR set, each writes its counts to
# files there and /metrics adds them up (orders/monitoring/metrics.py, docs/deployment.md).
def on_starting(server):
    """Empty the metrics directory: counts of an earlier run would be added to this one's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    """Drop a dead worker's gauges (its counters stay counted)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
