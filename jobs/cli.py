"""Commands for the worker side: `worker`, `reminders dispatch`, `reminders purge`."""

import logging

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

log = logging.getLogger(__name__)
reminders = click.Group("reminders", help="Send reminders.")


@reminders.command("dispatch")
@with_appcontext
def dispatch_command() -> None:
    """One dispatch cycle now: claim due reminders, enqueue send jobs; prints how many."""
    from .dispatch import dispatch

    click.echo(f"dispatched {dispatch()} reminders")


@reminders.command("purge")
@with_appcontext
def purge_command() -> None:
    """Purge message texts and delivery details older than RETENTION_DAYS now."""
    from .retention import purge

    counts = purge()
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))


@click.command("worker")
@click.option("--burst", is_flag=True, help="Work until the queues are empty, then stop.")
@click.option("--queues", "queue_names", default=None, help="Comma-separated queues (default: all).")
@click.option("--no-schedule", is_flag=True, help="Do not (re)schedule the periodic jobs.")
@click.option("--metrics-port", type=int, default=None,
              help="Serve this host's counters for Prometheus on this port (provider calls and their durations).")
@with_appcontext
def worker_command(burst: bool, queue_names: str | None, no_schedule: bool, metrics_port: int | None) -> None:
    """An RQ worker with the scheduler, inside the app: sends reminders, runs the periodic jobs.

    It rides out Redis outages (see `jobs.worker`).
    """
    from portal import metrics
    from portal import queue as queues

    from .schedule import Keeper
    from .worker import run

    config = current_app.config
    metrics.forget_dead_processes()
    if metrics_port:
        metrics.serve_counters(metrics_port)
    owned = _embedded_redis(config)
    connection = queues.connection()
    names = queue_names.split(",") if queue_names else list(queues.QUEUE_NAMES)
    keeper = None
    if not no_schedule and not burst:
        keeper = Keeper(dict(config))
        keeper.start()
    try:
        run(connection, names, config, burst=burst, schedule=not no_schedule)
    finally:
        if keeper:
            keeper.stop()
        if owned is not None:
            owned.shutdown()


def _embedded_redis(config):
    """Start the embedded Redis when it is configured and nobody runs it; we then own it."""
    from portal import queue as queues

    if not config.get("EMBEDDED_REDIS") or queues.is_running(config["REDIS_URL"]):
        return None
    log.warning("no embedded Redis running: starting one (it stops with this worker)")
    return queues.start_embedded(config["REDIS_URL"])


def register(app: Flask) -> None:
    """Add the worker-side commands to the app's CLI."""
    app.cli.add_command(reminders)
    app.cli.add_command(worker_command)
