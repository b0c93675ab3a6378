"""Receivers: the links between radio dongles and the hub (serial, BLE, BLE adverts)."""

from hub.receivers.base import ReceiverHealth
from hub.receivers.link import ReceiverLink
from hub.receivers.serial import SerialReceiver, find_usb_receivers

__all__ = ["ReceiverHealth", "ReceiverLink", "SerialReceiver", "find_usb_receivers"]
