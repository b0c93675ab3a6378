"""Wire codec throughput, Python and C, beside the frame rate of a 115200-baud serial link.

Prints one JSON object. Run: python bench/wire.py
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hub.wire import PressMessage, StreamDecoder

ROOT = Path(__file__).resolve().parents[1]
BAUD = 115200
BITS_PER_BYTE = 10  # 8N1: start + 8 data + stop


def python_figures(n: int) -> dict[str, Any]:
    presses = [
        PressMessage(i % 70 + 1, i, 0x5EC0A11B, 3, 0, ord("5"), 87, -60, 0, (i * 2654435761) & 0xFFFFFFFF)
        for i in range(n)
    ]
    t0 = time.perf_counter()
    frames = [p.encode(i & 0xFFFF) for i, p in enumerate(presses)]
    t_enc = time.perf_counter() - t0
    wire = b"".join(frames)
    dec = StreamDecoder()
    t0 = time.perf_counter()
    got = 0
    for i in range(0, len(wire), 4096):
        got += len(dec.feed(wire[i : i + 4096]))
    t_dec = time.perf_counter() - t0
    assert got == n
    return {"encode_per_s": round(n / t_enc), "decode_per_s": round(n / t_dec), "frame_bytes": len(frames[0])}


def c_figures(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as build:
        subprocess.run(
            ["make", "-s", "-C", str(ROOT / "firmware" / "common"), f"BUILD={build}", f"{build}/clk_bench"],
            check=True,
            capture_output=True,
        )
        out = subprocess.run([f"{build}/clk_bench", str(n)], check=True, capture_output=True, text=True)
    figures: dict[str, Any] = json.loads(out.stdout)
    return figures


def main() -> None:
    n = 20_000 if "--quick" in sys.argv else 200_000
    py = python_figures(n)
    link = BAUD / BITS_PER_BYTE / py["frame_bytes"]
    result = {
        "bench": "wire",
        "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
        "press_frame_bytes": py["frame_bytes"],
        "link_115200_presses_per_s": round(link),
        "python": {**py, "decode_over_link": round(py["decode_per_s"] / link, 1)},
    }
    try:
        cf = c_figures(n)
        result["c"] = {
            "encode_per_s": cf["encode_per_s"],
            "decode_per_s": cf["decode_per_s"],
            "decode_over_link": round(cf["decode_per_s"] / link, 1),
            "c_over_python_decode": round(cf["decode_per_s"] / py["decode_per_s"], 1),
        }
    except (OSError, subprocess.CalledProcessError) as exc:
        result["c_error"] = str(exc)[:200]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
