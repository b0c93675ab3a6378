"""The streaming decoder: arbitrary chunks in, checked frames out, never an exception.

A reader that loses sync (boot noise, half a frame when the port opens) skips to the next
0x00. Every dropped frame is counted by reason. The buffer never holds more than one
maximal frame: a stream of garbage with no delimiter is dropped as ``oversize`` and the
decoder waits for the next delimiter, so memory stays bounded whatever arrives.
"""

from __future__ import annotations

from collections import Counter

from hub.wire.codec import Frame
from hub.wire.framing import MAX_ENCODED, FrameError, Reject, decode_frame
from hub.wire.messages import parse


class StreamDecoder:
    def __init__(self) -> None:
        self._buf = bytearray()
        self._skipping = False  # inside an oversize run: drop until the next delimiter
        self.rejected: Counter[str] = Counter()
        self.frames = 0

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, chunk: bytes) -> list[Frame]:
        parts = chunk.split(b"\x00")  # one C call per chunk: a burst brings thousands of frames
        tail = parts.pop()  # after the last delimiter: the start of a frame still arriving
        if parts and (self._buf or self._skipping):
            self._append(parts[0])  # completes the frame the previous chunk began
            parts[0] = b"" if self._skipping else bytes(self._buf)
            self._buf.clear()
            self._skipping = False
        out: list[Frame] = []
        for part in parts:
            if not part:
                continue
            if len(part) > MAX_ENCODED:
                self.rejected[Reject.OVERSIZE] += 1
                continue
            frame = self._decode(part)
            if frame is not None:
                out.append(frame)
        self._append(tail)
        return out

    def _append(self, data: bytes) -> None:
        if self._skipping or not data:
            return
        if len(self._buf) + len(data) > MAX_ENCODED:
            self.rejected[Reject.OVERSIZE] += 1
            self._buf.clear()
            self._skipping = True
            return
        self._buf += data

    def _decode(self, encoded: bytes) -> Frame | None:
        try:
            frame = parse(decode_frame(encoded))
        except FrameError as exc:
            self.rejected[exc.reason] += 1
            return None
        self.frames += 1
        return frame

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())
