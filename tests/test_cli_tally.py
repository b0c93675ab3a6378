"""`clicker tally`: the contract of docs/design.md, run as a user runs it (a real process)."""

import json
import subprocess
import sys

import pytest

EXAMPLE = {
    "grades": ["À rejeter", "Insuffisant", "Passable", "Assez bien", "Bien", "Très bien", "Excellent"],
    "tallies": {"Fiche 14": [2, 3, 5, 10, 20, 15, 15], "Fiche 21": [0, 4, 6, 12, 18, 20, 10]},
    "voters": 70,
}


def clicker(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], input=stdin, capture_output=True, text=True, timeout=60
    )


def test_contract_from_a_file(tmp_path):
    f = tmp_path / "t.json"
    f.write_text(json.dumps(EXAMPLE, ensure_ascii=False), encoding="utf-8")
    out = clicker("tally", str(f))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert (doc["rule"], doc["missing"], doc["voters"]) == ("majority-judgment", "reject", 70)
    rows = doc["ranking"]
    assert [(r["proposal"], r["rank"], r["majority_grade"]) for r in rows] == [
        ("Fiche 14", 1, "Bien"),
        ("Fiche 21", 2, "Bien"),
    ]
    assert rows[0]["gauge"] == {
        "proponents": "3/7",
        "opponents": "2/7",
        "sign": "+",
        "proponents_percent": 42.86,
        "opponents_percent": 28.57,
    }
    assert rows[0]["versus_next"]["step"] == "majority-value"
    assert rows[1]["versus_next"] is None


@pytest.mark.parametrize("rule", ["majority-judgment", "usual", "typical", "central"])
@pytest.mark.parametrize("missing", ["reject", "ignore", "median"])
def test_every_rule_and_policy_from_stdin(rule, missing):
    doc = dict(EXAMPLE, tallies={**EXAMPLE["tallies"], "Vide": [0] * 7, "Courte": [0, 0, 0, 0, 30, 0, 0]})
    out = clicker("tally", "-", "--rule", rule, "--missing", missing, stdin=json.dumps(doc))
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert (res["rule"], res["missing"]) == (rule, missing)
    assert res["ranking"][-1]["proposal"] == "Vide" and res["ranking"][-1]["majority_grade"] is None
    courte = next(r for r in res["ranking"] if r["proposal"] == "Courte")
    expected = {"reject": "À rejeter", "ignore": "Bien", "median": "Bien"}[missing]
    assert courte["majority_grade"] == expected


def test_grades_default_to_the_french_scale():
    out = clicker("tally", "-", stdin=json.dumps({"tallies": {"A": [0, 0, 0, 0, 0, 0, 1]}}))
    assert json.loads(out.stdout)["ranking"][0]["majority_grade"] == "Excellent"


BAD = [
    ("not json", "{nope", "not JSON"),
    ("array", "[1, 2]", "must be a JSON object"),
    ("unknown key", json.dumps({**EXAMPLE, "colour": 1}), "unknown key 'colour'"),
    ("missing tallies", json.dumps({"grades": EXAMPLE["grades"]}), "missing key 'tallies'"),
    ("duplicate key", '{"tallies": {"A": [1,0,0,0,0,0,0], "A": [0,0,0,0,0,0,1]}}', "duplicate key 'A'"),
    ("tallies list", json.dumps({"tallies": [1, 2]}), "'tallies' must be an object"),
    ("tally not list", json.dumps({"tallies": {"A": 3}}), "must be a list"),
    ("wrong length", json.dumps({"tallies": {"A": [1, 2]}}), "has 2 counts"),
    ("negative", json.dumps({"tallies": {"A": [1, -2, 0, 0, 0, 0, 0]}}), "non-negative integers"),
    ("float", json.dumps({"tallies": {"A": [1.5, 0, 0, 0, 0, 0, 0]}}), "non-negative integers"),
    ("bool", json.dumps({"tallies": {"A": [True, 0, 0, 0, 0, 0, 0]}}), "non-negative integers"),
    ("string count", json.dumps({"tallies": {"A": ["1", 0, 0, 0, 0, 0, 0]}}), "non-negative integers"),
    ("voters string", json.dumps({**EXAMPLE, "voters": "70"}), "'voters' must be"),
    ("voters negative", json.dumps({**EXAMPLE, "voters": -1}), "'voters' must be"),
    ("too few voters", json.dumps({**EXAMPLE, "voters": 10}), "more than the 10 voters"),
    ("grades not list", json.dumps({**EXAMPLE, "grades": "abc"}), "'grades' must be a list"),
    ("grades duplicate", json.dumps({"grades": ["a", "a"], "tallies": {}}), "distinct"),
    ("grades too few", json.dumps({"grades": ["a"], "tallies": {}}), "at least 2"),
    ("grade not string", json.dumps({"grades": ["a", 3], "tallies": {}}), "non-empty strings"),
]


@pytest.mark.parametrize(("label", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_exits_non_zero_with_one_line(label, text, message):
    out = clicker("tally", "-", stdin=text)
    assert out.returncode != 0
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert message in lines[0]


def test_missing_file_and_binary_file(tmp_path):
    out = clicker("tally", str(tmp_path / "nope.json"))
    assert out.returncode != 0 and "no such file" in out.stderr and len(out.stderr.splitlines()) == 1
    f = tmp_path / "bin.json"
    f.write_bytes(b"\xff\xfe\x00garbage")
    out = clicker("tally", str(f))
    assert out.returncode != 0 and "not UTF-8" in out.stderr and len(out.stderr.splitlines()) == 1


def test_unknown_rule_is_refused():
    out = clicker("tally", "-", "--rule", "borda", stdin=json.dumps(EXAMPLE))
    assert out.returncode != 0 and out.stdout == ""
