"""The one list of channels and their pt-BR names."""

from __future__ import annotations

from regua.domain.channels import CHANNELS, MESSAGE_CHANNELS, WRITTEN_CHANNELS, channel_label


def test_every_channel_has_a_pt_br_name() -> None:
    assert [channel_label(c) for c in CHANNELS] == ["e-mail", "SMS", "WhatsApp", "ligação", "carta"]


def test_an_unknown_channel_is_shown_as_it_is() -> None:
    assert channel_label("pombo") == "pombo"


def test_a_phone_call_is_no_message_and_letters_and_e_mails_are_written() -> None:
    assert "phone" not in MESSAGE_CHANNELS
    assert set(MESSAGE_CHANNELS) | {"phone"} == set(CHANNELS)
    assert {"letter", "email"} == WRITTEN_CHANNELS
