"""Long work in the background: jobs a person starts and watches, and the schedules.

A ``Job`` row is what a person sees on 我的任务 (its state, progress, result, file); Django's
task framework (the ``django-tasks`` backport, its database backend by default) carries it to
a worker (``manage.py db_worker``), which runs the job's kind (``kinds``) with a ``progress``
that writes the row as it goes (``runner``). ``schedules`` starts the jobs that run by the
clock (``manage.py run_scheduler``). docs/architecture.md says why, docs/deployment.md how to
run the workers.
"""
