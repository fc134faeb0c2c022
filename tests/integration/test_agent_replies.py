"""What agents answer to a remote command is shown in Vietnamese; what they name stays as they said it."""

from __future__ import annotations

import pytest

from broadcast.web.agent_replies import agent_reply


@pytest.mark.parametrize(("said", "shown"), [
    ("playing", "đang phát"),
    ("nothing was playing", "không có gì đang phát"),
    ("stopped entry-17", "đã dừng"),
    ("volume 60", "đã đặt âm lượng 60"),
    ("volume 60 stored; volume_command not found: amixer",
     "đã lưu âm lượng 60 để dùng sau, nhưng đài chưa đặt được ngay: volume_command not found: amixer"),
    ("the playout engine did not answer", "trình phát của đài không trả lời"),
    ("unknown command kind 'reboot' (known: play_now, stop)", "đài không biết lệnh này (hãy cập nhật phần mềm đài)"),
    ("received; airs 2 times from 16:00:00", "đã nhận; phát 2 lần, từ 16:00:00"),
    ("amplifier off", "amplifier off"),  # not known here: as the agent said it
    (None, "—"),
])
def test_agent_replies_in_vietnamese(app, said, shown):
    with app.test_request_context():
        assert agent_reply(said) == shown
