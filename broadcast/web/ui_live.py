"""The "speak now" page (Phát trực tiếp): an editor's or approver's microphone relayed live by chosen areas.

The page (static/live.js) asks for the microphone, opens the announcement (POST /live: title, longest length,
areas ticked on the emergency page's tree), then sends the recording in half-second WebM/Opus chunks over a
WebSocket (GET /live/<id>/audio, flask-sock). That socket's request is the announcement's one loop
(broadcast.services.live_relay.relay): it feeds ffmpeg, tells the stations once the mount is up, and ends
everything when the speaker stops, the socket drops or no audio comes for LIVE_SILENCE_S. The stations' state
refreshes itself from GET /live/<id>/status; POST /live/<id>/stop stops it from any page and any worker.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_sock import ConnectionClosed, Sock
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from broadcast.db.models import LiveEnd, LiveState, User
from broadcast.errors import DomainError
from broadcast.formats import clock_length
from broadcast.i18n import _, _l
from broadcast.services import areas, emergency_delivery, live_relay, live_sessions, scope, target_tree
from broadcast.services.emergencies import Outgoing
from broadcast.web.agent_replies import agent_reply
from broadcast.web.auth import role_required, signed_in_user
from broadcast.web.context import db, settings
from broadcast.web.placement_forms import ListField
from broadcast.web.time import utc_now

bp = Blueprint("live_ui", __name__)
sock = Sock()  # its routes go on this blueprint (``bp=``), so nothing else to register
CHUNK_LIMIT = 1 << 20  # one message of half a second of Opus is a few kilobytes; anything this big is not audio


@bp.record_once
def _socket_options(state) -> None:
    state.app.config.setdefault("SOCK_SERVER_OPTIONS", {"max_message_size": CHUNK_LIMIT})


class LiveForm(FlaskForm):
    title = StringField(_l("Title"), validators=[
        DataRequired(message=_l("Give the announcement a title.")),
        Length(max=live_sessions.TITLE_LONGEST, message=_l("The title is at most %(n)s characters.",
                                                        n=live_sessions.TITLE_LONGEST))])
    minutes = IntegerField(_l("Longest length (minutes)"), default=live_sessions.DEFAULT_MINUTES,
                           validators=[InputRequired(message=_l("Say how many minutes at most."))])
    targets = ListField(_l("Areas that hear it"), limit=2000, validators=[DataRequired(
        message=_l("Choose at least one area."))])


# What an editor reads on a server with no stream server: whom to ask, the setting only for that person.
NOT_SET_UP = _l("This server is not set up for live announcements (they need an Icecast stream server). Tell the "
                "system administrator: they set LIVE_ICECAST_URL as the README explains.")


def _config() -> live_sessions.LiveConfig | None:
    return live_sessions.LiveConfig.from_settings(settings())


def _dispatch(outgoing: live_sessions.Outgoing) -> None:
    """Wake the long polls and publish on MQTT (the emergency path: every station hears at once)."""
    if outgoing:
        emergency_delivery.dispatch(settings(), Outgoing(tuple(outgoing)))


def _sweep() -> None:
    config = _config()
    if config is not None:
        _dispatch(live_sessions.sweep(db(), now=utc_now(), config=config))


@bp.route("/live")
@role_required(*live_sessions.SPEAKERS)
def live_page():
    _sweep()
    user = signed_in_user()
    config = _config()
    form = LiveForm(formdata=None)
    if config is not None:
        form.minutes.validators = [*form.minutes.validators, NumberRange(1, config.max_minutes)]
    tree = target_tree.target_tree(db(), user, selected=[], stations=False)
    return render_template("live/page.html", form=form, tree=tree, selected=set(), config=config,
                           recent=live_sessions.recent(db(), user))


@bp.route("/live/areas/<int:area_id>/children")
@role_required(*live_sessions.SPEAKERS)
def area_children(area_id: int):
    """One level of the area tree, for static/place.js (as on the emergency page)."""
    nodes = target_tree.children(db(), signed_in_user(), areas.get_area(db(), area_id), stations=False)
    return render_template("items/_area_tree.html", nodes=nodes, selected=set(),
                           children_endpoint="live_ui.area_children")


@bp.route("/live", methods=["POST"])
@role_required(*live_sessions.SPEAKERS)
def open_live():
    """Open an announcement (JSON for live.js): its id and where to send the audio, or every problem at once."""
    config = _config()
    if config is None:
        return jsonify(errors={"form": str(NOT_SET_UP)}), 409
    form = LiveForm()
    errors: dict[str, str] = {}
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            return jsonify(errors={"form": _("The form expired; reload the page.")}), 400
        errors = {name: str(messages[0]) for name, messages in form.errors.items()}
    if "minutes" not in errors and not 1 <= (form.minutes.data or 0) <= config.max_minutes:
        errors["minutes"] = _("The longest length is from 1 to %(max)s minutes.", max=config.max_minutes)
    if errors:
        return jsonify(errors=errors), 422
    _sweep()  # an announcement left behind must not hold its stations
    try:
        live = live_sessions.open_session(db(), signed_in_user(), form.targets.data, form.title.data, form.minutes.data,
                                       now=utc_now(), config=config)
    except DomainError as error:
        db().rollback()
        fields = error.details.get("fields") or {error.field or "form": error.message}
        names = {"areas": "targets"}
        return jsonify(errors={names.get(k, k): str(v) for k, v in fields.items()}), error.status
    # Werkzeug builds a WebSocket route as an absolute ws:// address of the host it saw (behind a proxy, not the
    # browser's): the page joins the path to its own host and scheme instead.
    audio = urlsplit(url_for(".live_audio", live_id=live.id)).path
    return jsonify(id=live.id, audio=audio,
                   status=url_for(".live_status", live_id=live.id), stop=url_for(".stop_live", live_id=live.id),
                   page=url_for(".live_detail", live_id=live.id), until=live.until.isoformat(),
                   seconds=round((live.until - live.opened_at).total_seconds())), 201


def _same_origin() -> bool:
    """A WebSocket is not covered by CSRF tokens: refuse one opened by another site's page (the cookie would go)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    theirs, ours = urlsplit(origin), urlsplit(f"//{request.host}")
    # Some clients name the host without its port: then the names must match, else both.
    return theirs.hostname == ours.hostname and (ours.port is None or theirs.port == ours.port)


@sock.route("/live/<int:live_id>/audio", bp=bp)
def live_audio(ws, live_id: int):
    """The speaker's audio: binary chunks, or the text "stop"; the server answers with JSON state messages."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    live = None
    if user is not None and _same_origin() and scope.has_role(user, *live_sessions.SPEAKERS):
        try:
            live = live_sessions.get_session(db(), user, live_id)
        except DomainError:
            live = None
    config = _config()
    if live is None or live.started_by_id != user.id or config is None:
        ws.send(json.dumps({"state": "refused"}))
        _let_the_browser_close(ws)
        return
    db().commit()

    def receive(timeout_s: float):
        try:
            return ws.receive(timeout=timeout_s)
        except ConnectionClosed:
            raise live_relay.Closed() from None

    def tell(message: dict) -> None:
        try:
            ws.send(json.dumps(message))
        except (ConnectionClosed, OSError):
            pass  # the next receive notices the socket is gone

    live_relay.relay(db(), live_id, live_relay.Link(receive, tell), config=config, clock=utc_now,
                     dispatch=_dispatch)
    _let_the_browser_close(ws)


def _let_the_browser_close(ws, wait_s: float = 3.0) -> None:
    """After the last message, give the page a moment to close the socket itself (it does on "ended"), else
    close it here. Under Werkzeug's own server (scripts and tests; gunicorn writes nothing more) the connection
    is then shut, or Werkzeug would send the end of an HTTP answer after the close frame, which browsers report
    as an invalid frame."""
    deadline = time.monotonic() + wait_s
    with contextlib.suppress(ConnectionClosed):
        while ws.connected and time.monotonic() < deadline:
            ws.receive(timeout=0.2)
        if ws.connected:
            ws.close(reason=1000, message="ended")
    raw = request.environ.get("werkzeug.socket")
    if raw is not None:
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)


def _detail(user: User, live_id: int) -> dict:
    live = live_sessions.get_session(db(), user, live_id)
    rows = live_sessions.target_rows(db(), live)
    may_stop = live_sessions.may_stop(user, live) and live.state is not LiveState.ENDED
    return {"live": live, "rows": rows, "summary": live_sessions.summary(rows), "may_stop": may_stop, "now": utc_now()}


@bp.route("/live/<int:live_id>")
@role_required(*live_sessions.SPEAKERS)
def live_detail(live_id: int):
    _sweep()
    return render_template("live/detail.html", **_detail(signed_in_user(), live_id))


@bp.route("/live/<int:live_id>/status")
@role_required(*live_sessions.SPEAKERS)
def live_status(live_id: int):
    """The stations' part of the page as an HTML fragment, for static/live.js to swap in every two seconds."""
    detail = _detail(signed_in_user(), live_id)
    response = make_response(render_template("live/_status.html", **detail))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Live-State"] = detail["live"].state.value
    return response


@bp.route("/live/<int:live_id>/stop", methods=["POST"])
@role_required(*live_sessions.SPEAKERS)
def stop_live(live_id: int):
    """Stop it from any page (the speaker's own page stops through its socket): the relay notices within seconds."""
    user = signed_in_user()
    live = live_sessions.get_session(db(), user, live_id)
    if not live_sessions.may_stop(user, live):
        abort(403)
    _dispatch(live_sessions.end(db(), live, LiveEnd.STOPPED, now=utc_now(), by=user))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(state=live.state.value)
    flash(_("The live announcement is stopped; the stations are told to stop."), "info")
    return redirect(url_for(".live_detail", live_id=live_id), 303)


STATE_LABELS = {"pending": _l("Waiting for the station"), "delivered": _l("Received by the station"),
                "playing": _l("Relaying"), "failed": _l("Failed"), "missed": _l("Did not receive it in time"),
                "stopping": _l("Told to stop"), "stopped": _l("Stopped")}
SESSION_LABELS = {LiveState.STARTING: _l("Starting"), LiveState.ON_AIR: _l("On air"), LiveState.ENDED: _l("Ended")}
END_LABELS = {LiveEnd.STOPPED: _l("stopped by a person"), LiveEnd.DROPPED: _l("the speaker's connection was lost"),
              LiveEnd.TIME_UP: _l("the longest length was reached"), LiveEnd.FAILED: _l("the stream server failed")}


@bp.app_context_processor
def _labels() -> dict:
    return {"live_state_label": lambda s: str(STATE_LABELS.get(s, s)), "live_agent_reply": agent_reply,
            "live_not_set_up": NOT_SET_UP,
            "live_session_label": lambda s: str(SESSION_LABELS.get(s, s)),
            "live_end_label": lambda r: str(END_LABELS.get(r, "")) if r else "", "live_length": clock_length,
            "may_speak_live": lambda: current_user.is_authenticated and scope.has_role(current_user,
                                                                                        *live_sessions.SPEAKERS)}

