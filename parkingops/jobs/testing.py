"""For tests: run the queued jobs the way a worker does, in this process."""

from django_tasks_db.management.commands.db_worker import Worker


def run_queued_jobs() -> None:
    """Run every task waiting in the database queue (``db_worker --batch``), then return.

    Jobs write their progress on a second connection: tests that run them use
    ``django_db(transaction=True)``.
    """
    Worker(
        queue_names=["default"],
        excluded_queue_names=[],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
    ).run()
