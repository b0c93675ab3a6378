"""Receivers: the protocol between the hub and its radio dongles, over any transport
(hub/transports/): ``ReceiverLink`` (handshake, heartbeat, presses and answers, reconnect) and
``AdvertReceiver`` (keypads heard directly in BLE adverts, one-way)."""

from hub.receivers.adverts import AdvertReceiver
from hub.receivers.base import EnginePort, Receiver, ReceiverHealth
from hub.receivers.link import LinkLost, LinkTimings, ReceiverLink

__all__ = [
    "AdvertReceiver",
    "EnginePort",
    "LinkLost",
    "LinkTimings",
    "Receiver",
    "ReceiverHealth",
    "ReceiverLink",
]
