"""What every record shares: the msgspec Struct they derive from, decoding with one-line errors
naming the file and the key, and atomic writing in the format of every JSON output.

Records are msgspec Structs: measured against pydantic and against json.loads with hand-written
validators, msgspec imports in a few milliseconds and decodes several times faster (the numbers
are in docs/contracts.md). Keys a reader does not know are ignored, so a newer file still
reads; a field with a default is left out of the file while it holds that default (`error` of
progress.json, the `note`s). Writing goes through `mnist_dvc.core.atomic.write_json`, so files
keep its format: sorted keys, two-space indent, Python's float repr.
"""

from __future__ import annotations

import json
import re
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar, Union, get_args, get_origin

import msgspec
from msgspec import Meta

from mnist_dvc.core.atomic import write_json
from mnist_dvc.core.contracts import rerun_hint
from mnist_dvc.core.errors import BadInput
from mnist_dvc.core.jsonfile import parse_json, read_text

T = TypeVar("T")

Seed = Annotated[int, Meta(ge=0)]
Count = Annotated[int, Meta(ge=0)]
Digit = Annotated[int, Meta(ge=0, le=9)]


class Record(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True):
    """A contract file (or a part of one): `read`, `from_text` and `write`."""

    @classmethod
    def from_text(cls, text: str | bytes, path: Path | str) -> Self:
        """The record in `text`, the content of `path` (which names the file in errors)."""
        return decode(cls, text, path)

    @classmethod
    def read(cls, path: Path | str) -> Self:
        return read_record(cls, path)

    def write(self, path: Path | str) -> None:
        write_record(path, self)


def complete(mapping: dict, keys: tuple[str, ...], name: str) -> None:
    """A mapping that must hold every one of `keys` (more are welcome: a newer file still reads)."""
    missing = [key for key in keys if key not in mapping]
    if missing:
        raise ValueError(f"`{name}.{missing[0]}` is missing")


def read_record(kind: type[T], path: Path | str) -> T:
    """The record of type `kind` (a Record class, or a type such as `comparison.Summary`) at `path`."""
    return decode(kind, read_text(path), path)


def decode(kind: type[T], text: str | bytes, path: Path | str) -> T:
    """The record of type `kind` in `text`, the content of `path`; one BadInput line if it does not match."""
    try:
        return msgspec.json.decode(text, type=kind)
    except msgspec.ValidationError as exc:
        problem = _problem(kind, json.loads(text), str(exc))
    except msgspec.DecodeError as exc:
        parse_json(text, path)  # empty, torn or not UTF-8: said as every JSON reader says it
        problem = f"not valid JSON ({exc})"  # what Python's json accepts and JSON does not: NaN
    raise BadInput(path, problem, rerun_hint(path, force=True))


def write_record(path: Path | str, record: Record | dict[str, Record]) -> None:
    """The record as JSON at `path`, atomically, in the format of every JSON output."""
    write_json(path, msgspec.to_builtins(record, str_keys=True, enc_hook=_plain))


def _plain(value: Any) -> Any:
    """numpy's float64 is a float to json.dumps, which wrote these files before records did."""
    if isinstance(value, float):
        return float(value)
    raise TypeError(f"a {type(value).__name__} cannot be written to a JSON record")


# msgspec's error: "Expected `int`, got `str` - at `$.seeds[0]`", or "... - at `key` in `$.runs`".
_ERROR = re.compile(r"^(?P<message>.*?)(?: - at `(?P<key>key` in `)?\$(?P<where>[^`]*)`)?$", re.DOTALL)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")


def _problem(kind: Any, raw: Any, error: str) -> str:
    """msgspec's error as one phrase naming the key: "`epoch`: expected `int` >= 0, got -1"."""
    match = _ERROR.match(error)
    message, where = match["message"], match["where"]
    message = message[0].lower() + message[1:]
    if where is None:
        missing = message.startswith("object missing required field `")
        return f"`{message.split('`')[1]}` is missing" if missing else message
    try:
        key, kind, value = _locate(kind, raw, where)
    except (KeyError, IndexError, StopIteration, TypeError):
        return f"`{where.lstrip('.')}`: {message}"
    if match["key"]:
        key_type = get_args(_unwrap(kind))[0]
        bad = next(name for name in value if not _decodes({name: None}, dict[key_type, Any]))
        return f"`{key}` has a key {bad!r}: {message}"
    if message.startswith("object missing required field `"):
        return f"`{key + '.' if key else ''}{message.split('`')[1]}` is missing"
    if message.startswith("`"):  # a record's own check, which names its key relative to the record
        return f"`{key + '.' if key else ''}{message[1:]}"
    if get_origin(_unwrap(kind)) is Literal:
        message += f", expected one of {', '.join(map(str, get_args(_unwrap(kind))))}"
    elif ", got" not in message:
        message += f", got {json.dumps(value)}"
    return f"`{key}`: {message}"


def _locate(kind: Any, raw: Any, where: str) -> tuple[str, Any, Any]:
    """The key, type and value at msgspec's path (`.models[...].stats`), each `[...]` (a key msgspec
    does not name) replaced by the first key whose value fails to decode: `models.model_a.stats`."""
    key = ""
    for field, index in _STEP.findall(where):
        kind = _unwrap(kind)
        if field:
            kind, raw = {f.encode_name: f.type for f in msgspec.structs.fields(kind)}[field], raw[field]
            key += f".{field}"
        elif index != "...":
            args = get_args(kind)
            kind, raw = args[int(index)] if get_origin(kind) is tuple else args[0], raw[int(index)]
            key += f"[{index}]"
        else:
            kind = get_args(kind)[1]
            name = next(name for name, value in raw.items() if not _decodes(value, kind))
            raw = raw[name]
            key += f".{name}"
    return key.lstrip("."), kind, raw


def _unwrap(kind: Any) -> Any:
    """The container type inside `X | None` and `Annotated[X, ...]`."""
    while True:
        origin = get_origin(kind)
        if origin is Annotated:
            kind = get_args(kind)[0]
        elif origin in (Union, types.UnionType):
            kind = next(arg for arg in get_args(kind) if arg is not type(None))
        else:
            return kind


def _decodes(value: Any, kind: Any) -> bool:
    try:
        msgspec.json.decode(json.dumps(value), type=kind)
    except msgspec.ValidationError:
        return False
    return True
