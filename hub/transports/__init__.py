"""Byte transports to the receivers: a serial port or a socket (``serial``), a BLE GATT
connection (``ble``), the BLE adverts the hub's own adapter hears (``adverts``), a recording
tap around any of them (``tap``) and the replay of a recording (``replay``). Each implements
``Transport`` (``base``): open, read, write, close, health. The protocol on top (handshake,
heartbeat, presses, answers) is the receiver link's (hub/receivers/)."""
