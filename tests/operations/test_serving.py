"""The process that serves the app (wsgi.py: gunicorn's workers, `flask --app wsgi worker`)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_collector_leaves_out_the_app_and_waits_for_a_batch(tmp_path):
    """Walking the app's own objects took 60-70 ms every few dozen requests: the lookup's slowest answers;
    and a sync batch's objects, alive until its commit, were walked again and again."""
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'serving.sqlite'}", "SECRET_KEY": "serving"}
    program = "import gc, wsgi; print(gc.get_freeze_count(), len(gc.get_objects()), gc.get_threshold()[0])"
    shown = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=environment, check=True, capture_output=True,
                           text=True)
    frozen, walked, young = map(int, shown.stdout.split()[-3:])
    assert frozen > 50_000 and walked < frozen / 10, shown.stdout
    assert young >= 10 * 1000, shown.stdout  # a batch of 1,000 operations between young collections at least
