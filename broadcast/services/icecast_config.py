"""A configuration file for a local Icecast 2 server: the stream server live announcements feed (LIVE_ICECAST_URL).

scripts/run starts one for the demo (``flask demo icecast``), so that speaking live works out of the box, and the
tests start their own. Icecast refuses to run as root: written by root, the configuration tells it to switch to the
Debian package's ``icecast2`` user (``<changeowner>``), and that user is given the folder.
"""

from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path
from xml.sax.saxutils import escape

RUN_AS = "icecast2"  # the Debian package's system user

TEMPLATE = """<icecast>
  <location>{location}</location>
  <admin>admin@localhost</admin>
  <limits>
    <clients>{clients}</clients>
    <sources>10</sources>
    <queue-size>1048576</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout>
    <burst-on-connect>1</burst-on-connect>
    <burst-size>{burst}</burst-size>
  </limits>
  <authentication>
    <source-password>{source_password}</source-password>
    <relay-password>{admin_password}</relay-password>
    <admin-user>admin</admin-user>
    <admin-password>{admin_password}</admin-password>
  </authentication>
  <hostname>{host}</hostname>
  <listen-socket>
    <port>{port}</port>
    <bind-address>{host}</bind-address>
  </listen-socket>
  <fileserve>1</fileserve>
  <paths>
    <basedir>{folder}</basedir>
    <logdir>{folder}</logdir>
    <webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot>
    <pidfile>{folder}/icecast.pid</pidfile>
  </paths>
  <logging>
    <accesslog>{access_log}</accesslog>
    <errorlog>{error_log}</errorlog>
    <loglevel>{log_level}</loglevel>
  </logging>
  <security>
    <chroot>0</chroot>
    {changeowner}
  </security>
</icecast>
"""


def write(folder: Path, *, port: int, source_password: str, admin_password: str, host: str = "127.0.0.1",
          burst_bytes: int = 16_384, clients: int = 2_000, location: str = "commune-radio",
          log_to_stderr: bool = False) -> Path:
    """Write ``folder``/icecast.xml; returns its path. ``burst_bytes`` is what a listener gets at once on
    connecting, so also how far behind the speaker stations play (16 KB is about 2 s of 64 kb/s MP3).

    ``log_to_stderr``: warnings and errors to the standard error (its caller's log file) instead of files in
    ``folder``, which the ``icecast2`` user may not reach when the folder lies in root's home."""
    folder.mkdir(parents=True, exist_ok=True)
    changeowner = ""
    if os.geteuid() == 0:
        user = pwd.getpwnam(RUN_AS)
        changeowner = (f"<changeowner><user>{RUN_AS}</user><group>{grp.getgrgid(user.pw_gid).gr_name}</group>"
                       "</changeowner>")
        os.chown(folder, user.pw_uid, user.pw_gid)
        for log in ("access.log", "error.log", "icecast.pid"):  # kept from an earlier start: root's otherwise
            if (folder / log).exists():
                os.chown(folder / log, user.pw_uid, user.pw_gid)
    config = folder / "icecast.xml"
    config.write_text(TEMPLATE.format(
        location=escape(location), clients=clients, access_log="-" if log_to_stderr else "access.log",
        error_log="-" if log_to_stderr else "error.log", log_level=2 if log_to_stderr else 3, burst=burst_bytes,
        source_password=escape(source_password),
        admin_password=escape(admin_password), host=escape(host), port=port, folder=escape(str(folder)),
        changeowner=changeowner), encoding="utf-8")
    config.chmod(0o640 if changeowner else 0o600)
    if changeowner:  # the server reads it after switching user
        os.chown(config, 0, pwd.getpwnam(RUN_AS).pw_gid)
    return config
