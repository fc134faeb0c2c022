"""SQLite writers in one gevent worker take turns through a lock that yields, not through SQLite's busy wait.

Under gunicorn's gevent workers every request of a process shares one thread. SQLite's busy handler waits in C:
a greenlet that wants to write while another greenlet of the same process holds the write lock would stop the
whole process, including the holder, which then cannot finish (say it waits for ffmpeg while rendering a CAP
alert's speech) until the busy timeout fails the waiter. So within a process, a connection takes this lock at
its first write and keeps it until its transaction ends, and other greenlets wait for it cooperatively. Writers
in other processes (the scheduler) still meet SQLite's own busy wait, which only lasts as long as their write.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_HELD = "cooperative_write_lock"
WAIT_S = 10.0  # as long as SQLite's busy timeout: past it, go on and let SQLite answer "database is locked"


def take_turns_writing(engine: Engine) -> None:
    """Make the writers of this process wait for one another cooperatively (call only under gevent, SQLite)."""
    lock = threading.Lock()  # gevent's, once the standard library is patched

    def _before_execute(conn, _cursor, statement, _parameters, context, _executemany) -> None:
        if conn.info.get(_HELD):
            return
        writes = context is not None and (context.isinsert or context.isupdate or context.isdelete)
        if not writes and not statement.lstrip()[:7].upper().startswith(_WRITES):
            return
        if lock.acquire(timeout=WAIT_S):
            conn.info[_HELD] = True
        else:
            log.warning("waited %.0f s for this worker's other SQLite writer; writing anyway", WAIT_S)

    def _release(conn, *_args) -> None:
        if conn.info.pop(_HELD, False):
            lock.release()

    def _release_record(_dbapi_connection, record, *_args) -> None:
        if record.info.pop(_HELD, False):  # a connection returned or dropped mid-transaction
            lock.release()

    event.listen(engine, "before_cursor_execute", _before_execute)
    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)
    event.listen(engine, "checkin", _release_record)
    event.listen(engine, "reset", _release_record)
