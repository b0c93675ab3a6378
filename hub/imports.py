"""What every file a facilitator hands the hub goes through, from the command line or the console.

One code path, so that a file is refused with the same line in both places: a size limit, UTF-8
(with or without a BOM, nothing else), a CSV delimiter found from the header (``,`` ``;`` or tab,
as spreadsheets write them), strict quoting, one field count per row, and JSON without
duplicate keys. Every refusal is one ``InputError`` line naming the file, the row and the field.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hub.errors import ClickerError, named, printable, quoted

MAX_IMPORT_BYTES = 1 << 20  # 1 MiB: 50 fiches with long texts fit many times over
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
MAX_COLUMN_NAME = 60

# Our own per-field limits (the schemas') are far below this; csv's default (131,072) would
# otherwise refuse a long field before the schema can name it.
csv.field_size_limit(MAX_IMPORT_BYTES)


class InputError(ClickerError):
    """Input a person wrote that cannot be used; the message is one line: what and where."""


def check_size(size: int, name: str) -> None:
    name = named(name)
    if size > MAX_IMPORT_BYTES:
        raise InputError(f"{name}: {size:,} bytes, more than the {MAX_IMPORT_BYTES:,} an import may hold")


def read_input_file(path: Path) -> bytes:
    """A file's bytes, refusing what is not a readable regular file of at most 1 MiB."""
    name = named(str(path))
    try:
        if not path.is_file():
            raise InputError(f"{name}: {'a directory, not a file' if path.is_dir() else 'no such file'}")
        check_size(path.stat().st_size, name)
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: {exc.strerror}") from None


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text, with or without a BOM; any other encoding is refused, never guessed."""
    name = named(name)
    check_size(len(data), name)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(f"{name}: UTF-16 text: save it as UTF-8 (« CSV UTF-8 » in a spreadsheet)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{name}: line {line}: byte 0x{data[exc.start]:02X} is not UTF-8: "
            "save the file as UTF-8 (« CSV UTF-8 » in a spreadsheet)"
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(f"{name}: line {line}: a NUL character (is this a text file?)")
    return text


_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def _control(value: str, allowed: str) -> str | None:
    """The first control character of ``value`` not in ``allowed``, escaped; None if none."""
    for ch in value:
        if ch not in allowed and (unicodedata.category(ch) == "Cc" or ch in _LINE_BREAKS):
            return printable(ch)
    return None


def line_field(value: str) -> str:
    """A field written on one line (a title, a name): a line break there is a quote left open,
    and a control character (an escape sequence, a bell) is what a file picked up by mistake."""
    if any(ch in _LINE_BREAKS for ch in value):
        raise ValueError("holds a line break (a quote left open?)")
    bad = _control(value, "\t")
    if bad is not None:
        raise ValueError(f"holds a control character ({bad})")
    return value


def text_field(value: str) -> str:
    """A field of several lines: line breaks and tabs, but no other control character."""
    bad = _control(value, "\n\r\t")
    if bad is not None:
        raise ValueError(f"holds a control character ({bad})")
    return value


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise InputError(f"the key {quoted(key)} appears twice")
        doc[key] = value
    return doc


def _no_constant(name: str) -> Any:
    raise InputError(f"{name} is not a JSON number")


def read_json(data: bytes | str, name: str) -> Any:
    """JSON as written by a person: duplicate keys and NaN refused (json.loads keeps the last
    key silently and accepts NaN)."""
    name = named(name)
    text = decode_text(data, name) if isinstance(data, bytes) else data
    check_size(len(text.encode()), name)
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicate_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except InputError as exc:
        raise InputError(f"{name}: {exc}") from None
    except RecursionError:
        raise InputError(f"{name}: nested too deeply") from None


@dataclass(frozen=True)
class CsvRow:
    line: int  # where the row starts in the file (1 is the header)
    values: dict[str, str]  # column -> text, for every column of the header


def _columns(header_line: str, delimiter: str, aliases: Mapping[str, str]) -> list[str]:
    cells = next(csv.reader([header_line], delimiter=delimiter), [])
    return [aliases.get(c.strip().lower(), c.strip().lower()) for c in cells]


def _sniff(header_line: str, required: Sequence[str], aliases: Mapping[str, str]) -> str:
    """The delimiter that splits the header into the required columns; else the most frequent one."""
    for d in DELIMITERS:
        if set(required) <= set(_columns(header_line, d, aliases)):
            return d
    return max(DELIMITERS, key=header_line.count)


def _open_quote_column(first_line: str, delimiter: str) -> int:
    """Index of the field whose quote is still open at the end of a row's first line."""
    cells = next(csv.reader([first_line], delimiter=delimiter, strict=False), [])
    return max(0, len(cells) - 1)


def read_csv(
    text: str, name: str, required: Sequence[str], aliases: Mapping[str, str] | None = None
) -> list[CsvRow]:
    """Rows of a CSV with a header, all or nothing. ``aliases`` maps other column names (in
    lower case) to ours; the delimiter is the one of , ; tab that yields the ``required`` columns."""
    aliases = aliases or {}
    name = named(name)
    # Line ends as any spreadsheet writes them (CR LF, LF, and the old Macs' lone CR) made one;
    # only they end a row (a U+2028 inside a field is the field's).
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if not lines or not lines[0].strip():
        raise InputError(f"{name}: empty, or no header on line 1 (expected {', '.join(required)})")
    delimiter = _sniff(lines[0], required, aliases)
    header = _columns(lines[0], delimiter, aliases)
    for col in required:
        if col not in header:
            found = printable(_shorten(delimiter.join(header), 80))
            raise InputError(
                f"{name}: line 1: no '{col}' column (found: {found}; columns are separated by "
                "commas, semicolons or tabs)"
            )
    for i, col in enumerate(header):
        if not col:
            raise InputError(f"{name}: line 1: column {i + 1} has no name")
        if len(col) > MAX_COLUMN_NAME:
            raise InputError(
                f"{name}: line 1: column {i + 1}'s name has {len(col):,} characters, "
                f"at most {MAX_COLUMN_NAME}"
            )
        if col in header[:i]:
            raise InputError(f"{name}: line 1: the column {quoted(col)} appears twice")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    rows: list[CsvRow] = []
    start = 1
    try:
        next(reader)  # the header, already read
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if not any(c.strip() for c in cells):
                continue  # a blank line, or a spreadsheet's empty row
            if len(cells) != len(header):
                raise InputError(
                    f"{name}: line {start}: {len(cells)} fields, the header has {len(header)} "
                    f"(columns separated by {DELIMITER_NAMES[delimiter]}s)"
                )
            rows.append(CsvRow(start, dict(zip(header, cells))))
    except csv.Error as exc:
        column = header[min(_open_quote_column(lines[start - 1], delimiter), len(header) - 1)]
        if "unexpected end of data" in str(exc) or "expected after" in str(exc):
            raise InputError(f"{name}: line {start}, field {quoted(column)}: a quote is not closed") from None
        raise InputError(f"{name}: line {start}: bad CSV ({exc})") from None
    return rows


Loc = tuple[int | str, ...]


def one_line(
    exc: ValidationError,
    where: str,
    place: Callable[[Loc], str] | None = None,
    keys: Callable[[Loc], Sequence[str]] | None = None,
) -> str:
    """The first error of a pydantic validation as one line: where, which field, what is wrong
    (with the allowed values, or the known keys, when there is a list of them)."""
    # An unknown key first: it is often the misspelling of a key that is then reported missing.
    err = min(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("#")))
    what = describe(err)
    if err["type"] == "extra_forbidden" and loc:  # named by its parent: "keypad 3: unknown key 'x'"
        loc, what = loc[:-1], f"unknown key {quoted(str(loc[-1]))}"
        if keys is not None:
            what += f" (known: {', '.join(keys(loc))})"
    field = place(loc) if place is not None else loc_text(loc)
    return f"{where}: {field + ': ' if field else ''}{what}"


def loc_text(loc: Loc) -> str:
    """A field's path as a message shows it ("extra.theme"), each part shortened."""
    return ".".join(printable(_shorten(str(p), 40)) for p in loc)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(value: Any) -> str:
    """A value as it was written in the file, shortened for a one-line message."""
    return printable(_shorten(json.dumps(value, ensure_ascii=False, default=repr), 40))


def describe(err: Mapping[str, Any]) -> str:
    """One pydantic error in the words of a person who wrote a file by hand."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing":
        return "missing (required)"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in ("literal_error", "enum"):
        allowed = ctx.get("expected", "").replace(" or ", ", ").replace("'", "")
        return f"{_shown(value)} is not one of: {allowed}"
    if kind == "file_or_list":
        return f"must be {err['msg']}, not {_shown(value)}"
    if kind == "string_too_long":
        return f"{len(str(value)):,} characters, at most {ctx['max_length']:,}"
    if kind == "string_too_short":
        return "empty"
    if kind == "too_long":
        return f"{ctx.get('actual_length')} items, at most {ctx.get('max_length')}"
    if kind == "too_short":
        return f"{ctx.get('actual_length')} items, at least {ctx.get('min_length')}"
    expected = {
        "int_type": "an integer",
        "float_type": "a number",
        "bool_type": "true or false",
        "string_type": "text",
        "list_type": "a list",
        "dict_type": "an object",
        "model_type": "an object",
        "none_required": "null",
    }.get(kind)
    if expected is not None:
        return f"must be {expected}, not {_shown(value)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{_shown(value)} is out of range ({err['msg'].lower().removeprefix('input ')})"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return f"{err['msg']} (got {_shown(value)})"
