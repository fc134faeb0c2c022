"""SQLite writers of one gevent worker take turns through a cooperative lock (broadcast.db.cooperative).

Run in a child process with gevent's patches, as gunicorn's gevent worker runs the service: a greenlet that
holds SQLite's write lock while it waits for something else (a subprocess, the network) must not be stuck
behind another greenlet of the process waiting for the same lock inside SQLite.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()

    import sys
    import gevent
    from sqlalchemy import text
    from broadcast.db import cooperative
    from broadcast.db.engine import Database

    database = Database(f"sqlite:///{sys.argv[1]}")
    if sys.argv[2] == "cooperative":
        cooperative.take_turns_writing(database.engine)
    with database.engine.begin() as conn:
        conn.execute(text("PRAGMA busy_timeout = 2000"))  # each connection of the pool: see below
        conn.execute(text("CREATE TABLE notes (who TEXT)"))
    done = []

    def slow_writer():
        with database.engine.connect() as conn:
            conn.execute(text("PRAGMA busy_timeout = 2000"))
            conn.execute(text("INSERT INTO notes VALUES ('slow')"))  # holds SQLite's write lock from here...
            gevent.sleep(0.5)  # ...while it waits, as for ffmpeg or the network
            conn.commit()
            done.append("slow")

    def quick_writer():
        gevent.sleep(0.1)
        with database.engine.connect() as conn:
            conn.execute(text("PRAGMA busy_timeout = 2000"))
            try:
                conn.execute(text("INSERT INTO notes VALUES ('quick')"))
                conn.commit()
                done.append("quick")
            except Exception as exc:
                done.append(type(exc).__name__)

    gevent.joinall([gevent.spawn(slow_writer), gevent.spawn(quick_writer)])
    print(",".join(done))
""")


def _run(tmp_path: Path, mode: str) -> str:
    answer = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / f"{mode}.db"), mode], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0, answer.stderr
    return answer.stdout.strip()


def test_writers_of_one_gevent_process_take_turns(tmp_path):
    assert _run(tmp_path, "cooperative") == "slow,quick"  # the second waited for the first, and both wrote


def test_without_taking_turns_the_second_writer_stalls_the_first_and_fails(tmp_path):
    # What the lock prevents: SQLite's busy wait holds the process, so the holder cannot finish in time.
    assert _run(tmp_path, "plain") == "OperationalError,slow"
