"""gunicorn's settings for this service, read from the working directory (`gunicorn wsgi:app`)."""
from prometheus_client import multiprocess

from portal import logs, metrics

# gunicorn's own lines in the service's format (LOG_FORMAT); the access line is the app's own
logger_class = logs.GunicornLogger
# only if an access log is switched on (--access-logfile): without the query string, which
# carries the phone numbers and names of lookups and status reports
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'


def on_starting(server):
    """Counters of processes that ran before start from zero (PROMETHEUS_MULTIPROC_DIR)."""
    metrics.forget_dead_processes()


def child_exit(server, worker):
    if metrics.multiprocess_directory():
        multiprocess.mark_process_dead(worker.pid)
