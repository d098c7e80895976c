"""The process that serves the app (wsgi.py: gunicorn's workers, `flask --app wsgi worker`)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_full_collections_leave_out_what_building_the_app_made(tmp_path):
    """Walking the app's own objects took 60-70 ms every few dozen requests: the lookup's slowest answers."""
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'serving.sqlite'}", "SECRET_KEY": "serving"}
    shown = subprocess.run([sys.executable, "-c", "import gc, wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"],
                           cwd=ROOT, env=environment, check=True, capture_output=True, text=True)
    frozen, walked = map(int, shown.stdout.split()[-2:])
    assert frozen > 50_000 and walked < frozen / 10, shown.stdout
