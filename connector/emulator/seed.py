"""Loading a seed directory into an org, like a data import with audit fields enabled.

The directory (written by ``connector.datagen``) holds ``manifest.json`` (``objects``
in load order) and one ``{Object}.jsonl`` per object: a record per line, field API
names to API JSON values, a seed-wide unique ``"_key"``, and references either as
ids or as ``{"_ref": "<_key>"}``. The loader may set what an import may set
(CreatedDate, LastModifiedDate, IsConverted, ConvertedContactId, ...) but enforces
types, lengths, picklists and uniqueness; the first bad line stops the load with
file, line and field named, and nothing is kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connector.emulator.org import Org
from connector.emulator.records import CallError, parse_json_record
from connector.emulator.schema import ObjectSchema
from connector.errors import ConfigError

MANIFEST = "manifest.json"


class SeedError(ConfigError):
    """A seed directory that cannot be loaded; the message names file, line and field."""


def _manifest(seed_dir: Path) -> dict[str, Any]:
    path = seed_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SeedError(f"{path}: the seed directory has no manifest") from None
    except (OSError, ValueError) as exc:
        raise SeedError(f"{path}: not readable JSON: {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("objects"), list) \
            or not all(isinstance(o, str) for o in manifest["objects"]):
        raise SeedError(f"{path}: 'objects' must be a list of object names")
    return manifest


def _resolve_refs(data: dict[str, Any], keys: dict[str, str], where: str) -> None:
    for name, value in data.items():
        if isinstance(value, dict) and set(value) == {"_ref"}:
            key = value["_ref"]
            if key not in keys:
                raise SeedError(f"{where}: {name}: _ref {key!r} names no record loaded before "
                                "it (check the manifest's object order)")
            data[name] = keys[key]


def _load_object(org: Org, obj: ObjectSchema, path: Path, keys: dict[str, str]) -> int:
    writer = org.writer(privileged=True)
    loaded = 0
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path.name}:{lineno}"
            try:
                data = json.loads(line)
            except ValueError as exc:
                raise SeedError(f"{where}: not a JSON object: {exc}") from None
            if not isinstance(data, dict):
                raise SeedError(f"{where}: not a JSON object")
            key = data.pop("_key", None)
            if not isinstance(key, str) or not key:
                raise SeedError(f"{where}: _key: every record needs a string _key")
            if key in keys:
                raise SeedError(f"{where}: _key: {key!r} is used twice in the seed")
            _resolve_refs(data, keys, where)
            try:
                rec = parse_json_record(obj, data, org.schema.get)
            except CallError as exc:
                raise SeedError(f"{where}: {exc.code}: {exc.message}") from None
            result = writer.create(obj, rec)
            if not result.success or result.id is None:
                error = result.errors[0]
                fields = ", ".join(error.fields) or "(record)"
                raise SeedError(f"{where}: {fields}: {error.code}: {error.message}")
            keys[key] = result.id
            loaded += 1
    return loaded


def load_seed(org: Org, seed_dir: Path) -> dict[str, str]:
    """Load ``seed_dir`` into ``org`` in one transaction; return ``_key`` -> record id."""
    manifest = _manifest(seed_dir)
    counts = manifest.get("counts") if isinstance(manifest.get("counts"), dict) else {}
    keys: dict[str, str] = {}
    with org.store.transaction():
        for name in manifest["objects"]:
            obj = org.schema.get(name)
            if obj is None:
                raise SeedError(f"{seed_dir / MANIFEST}: objects: unknown object {name!r}")
            path = seed_dir / f"{obj.name}.jsonl"
            if not path.exists():
                if counts and counts.get(name, 0) == 0:
                    continue
                raise SeedError(f"{path}: missing (the manifest lists {name})")
            _load_object(org, obj, path, keys)
    return keys
