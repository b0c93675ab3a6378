"""The web edge: the live channel (/ws/live), the control API, and the display's pages."""
