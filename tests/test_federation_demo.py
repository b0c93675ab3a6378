"""clicker demo --headless --rooms 3, as a user runs it: three assemblies vote in their own hubs
through a NATS outage, a paper channel and an online import are entered, and the plenary's
tallies equal the sum of every room's own journal."""

import json
import subprocess
import sys

from hub.federation.audit import verify_plenary
from hub.verify import verify


def test_three_rooms_a_paper_channel_and_the_plenary_through_an_outage(tmp_path):
    folder = tmp_path / "convention"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub",
            "demo",
            "--headless",
            "--rooms",
            "3",
            "--proposals",
            "5",
            "--seed",
            "5",
            "--db",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["plenary_matches_rooms"] is True
    assert summary["tallies_match_ground_truth"] is True and summary["plenary_journal_verifies"] is True
    assert summary["keypads_per_room"] == {"eco": 24, "soc": 23, "dem": 23}
    assert summary["nats_outage_s"] > 0 and summary["outbox_failures"] > 0  # the outage happened
    assert summary["alarms"] == 0 and summary["paper_ballots"] > 0 and summary["online_ballots"] > 0
    audit = verify_plenary(folder / "plenary.db")
    for room, records in summary["room_journal_records"].items():
        own = verify(folder / f"{room}.db")
        assert own.ok and own.records == records
        assert audit.convention.rooms[room].head == own.head
