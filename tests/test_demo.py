"""The demo end to end, headless, as a user runs it: a simulated room through the real serial
transport over a lossy link must give tallies equal to the simulator's ground truth."""

import json
import subprocess
import sys

from hub.verify import verify


def run(*args, timeout=300, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


def test_headless_demo_matches_ground_truth(tmp_path):
    db = tmp_path / "demo.db"
    record = tmp_path / "traffic.jsonl"
    out = run(
        "demo",
        "--headless",
        "--keypads",
        "30",
        "--proposals",
        "4",
        "--seed",
        "7",
        "--db",
        str(db),
        "--record",
        str(record),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    for field in (
        "presses_sent",
        "presses_counted",
        "duplicates",
        "refused",
        "polls",
        "tallies_match_ground_truth",
    ):
        assert field in summary
    assert summary["tallies_match_ground_truth"] is True
    assert summary["polls"] == 5  # 4 fiches and a consent round
    assert summary["duplicates"] > 0  # two receivers hear every keypad
    assert summary["receiver_reconnects"] >= 1  # one receiver rebooted mid-session
    # the journal it left recounts, and the recorded traffic replays to the same tallies
    v = verify(db)
    assert v.ok, v.problem
    assert v.presses == summary["presses_received"]
    replayed = run("replay", str(record), "--speed", "20")
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    assert json.loads(replayed.stdout.strip().splitlines()[-1])["tallies_match"] is True


def test_demo_through_ptys_with_heavy_loss(tmp_path):
    out = run(
        *(
            "demo",
            "--headless",
            "--keypads",
            "15",
            "--proposals",
            "2",
            "--loss",
            "0.3",
            "--pty",
            "--seed",
            "3",
        ),
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["tallies_match_ground_truth"] is True
    assert summary["radio_lost"] > 0
    # without --db the journal is kept where the demo was run, and the summary says where
    assert summary["journal"].startswith("clicker-demo-") and verify(tmp_path / summary["journal"]).ok


def test_demo_refuses_to_overwrite_a_journal(tmp_path):
    db = tmp_path / "x.db"
    db.write_bytes(b"")
    out = run("demo", "--headless", "--db", str(db))
    assert out.returncode != 0 and "already exists" in out.stderr


def test_replay_refuses_bad_files(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "action", "t": 0, "action": {}}\n', encoding="utf-8")
    out = run("replay", str(bad))
    assert out.returncode != 0 and len(out.stderr.strip().splitlines()) == 1 and "meta" in out.stderr
    out = run("replay", str(tmp_path / "none.jsonl"))
    assert out.returncode != 0 and "no such file" in out.stderr
    bad.write_text("not json\n", encoding="utf-8")
    assert "not JSON" in run("replay", str(bad)).stderr
