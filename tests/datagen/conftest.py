"""Shared generated data sets: generated once per worker, read into plain rows."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from connector.datagen import GeneratedData, generate
from connector.datagen.export import MAP_TABLES, SEED_OBJECTS


@dataclass
class Dataset:
    result: GeneratedData
    tables: dict[str, list[dict[str, Any]]]
    headers: dict[str, list[str]]
    seed: dict[str, list[dict[str, Any]]]
    manifest: dict[str, Any]
    cache: dict[str, Any] = field(default_factory=dict)  # derived views, computed once

    @property
    def summary(self) -> dict[str, Any]:
        return self.result.summary

    @property
    def people(self) -> list[dict[str, Any]]:
        return self.tables["people"]

    @property
    def touches(self) -> list[dict[str, Any]]:
        return self.tables["touches"]

    @property
    def programs(self) -> list[dict[str, Any]]:
        return self.tables["programs"]


def read_table(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """Rows of a CSV (header, dicts of strings) or JSONL (keys of the first line, dicts)."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = []
            for record in reader:
                assert len(record) == len(header), f"{path.name}: ragged row {record}"
                rows.append(dict(zip(header, record, strict=True)))
        return header, rows
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    return (list(rows[0]) if rows else []), rows


def load_dataset(result: GeneratedData) -> Dataset:
    tables: dict[str, list[dict[str, Any]]] = {}
    headers: dict[str, list[str]] = {}
    for name in MAP_TABLES:
        path = next(result.map_dir.glob(f"{name}.*"))
        headers[name], tables[name] = read_table(path)
    seed = {obj: [json.loads(line) for line in
                  (result.sf_dir / f"{obj}.jsonl").read_text(encoding="utf-8").splitlines()]
            for obj in SEED_OBJECTS}
    manifest = json.loads((result.sf_dir / "manifest.json").read_text(encoding="utf-8"))
    return Dataset(result, tables, headers, seed, manifest)


def text(value: Any) -> str:
    """A cell as text whatever the format: JSONL nulls and numbers read like CSV cells."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    out = tmp_path_factory.mktemp("small")
    return load_dataset(generate(out, people=400, seed=11))


@pytest.fixture(scope="session")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    out = tmp_path_factory.mktemp("medium")
    return load_dataset(generate(out, people=2500, seed=5))


@pytest.fixture(scope="session")
def very_dirty(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    out = tmp_path_factory.mktemp("dirty")
    return load_dataset(generate(out, people=2000, seed=8, dirty=0.2))


@pytest.fixture(scope="session")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    out = tmp_path_factory.mktemp("clean")
    return load_dataset(generate(out, people=1000, seed=3, dirty=0.0))


@pytest.fixture(scope="session")
def jsonl(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    out = tmp_path_factory.mktemp("jsonl")
    return load_dataset(generate(out, people=400, seed=11, fmt="jsonl"))
