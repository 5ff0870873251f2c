"""Resolving field paths against the schema, and the LEFT JOINs they need.

``ConvertedContact.Account.Website`` on Lead walks two parent relationships
(matched case-insensitively by ``FieldSchema.relationship_name``) and lands on
Account.Website; each distinct relationship prefix becomes one LEFT JOIN, so a
missing parent yields NULLs rather than dropping the row, as Salesforce's
parent relationships behave.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connector.emulator.schema import FieldSchema, ObjectSchema, Schema
from connector.emulator.soql.errors import (
    CUSTOM_FIELD_HINT,
    CUSTOM_RELATIONSHIP_HINT,
    INVALID_FIELD,
    MALFORMED_QUERY,
    located,
)
from connector.emulator.soql.nodes import FieldRef


def quote(name: str) -> str:
    """An SQL identifier; schema names are API names, so this never needs escaping."""
    return f'"{name}"'


@dataclass(frozen=True)
class Hop:
    """One parent relationship on a path: its canonical name and the joined object."""

    relationship: str
    target: ObjectSchema
    alias: str


@dataclass(frozen=True)
class Resolved:
    """A field path resolved to its column, with the relationships it walks."""

    field: FieldSchema
    owner: ObjectSchema
    alias: str
    hops: tuple[Hop, ...]
    ref: FieldRef

    @property
    def column(self) -> str:
        return f"{self.alias}.{quote(self.field.name)}"

    @property
    def canonical(self) -> str:
        return ".".join([h.relationship for h in self.hops] + [self.field.name])


@dataclass
class Scope:
    """Field resolution for one FROM object; collects the joins the paths need."""

    schema: Schema
    root: ObjectSchema
    prefix: str
    query: str
    object_alias: str | None = None
    _joins: dict[tuple[str, ...], tuple[Hop, str, FieldSchema]] = field(default_factory=dict)

    @property
    def root_alias(self) -> str:
        return f"{self.prefix}0"

    def _strip_qualifier(self, path: tuple[str, ...]) -> tuple[str, ...]:
        """``Lead.Email`` (or ``l.Email`` with alias ``l``) on Lead means ``Email``."""
        if len(path) < 2:
            return path
        head = path[0].lower()
        names = {self.root.name.lower()}
        if self.object_alias:
            names.add(self.object_alias.lower())
        if head in names and head not in self.root.relationships:
            return path[1:]
        return path

    def resolve(self, ref: FieldRef) -> Resolved:
        path = self._strip_qualifier(ref.path)
        current = self.root
        alias = self.root_alias
        hops: list[Hop] = []
        key: tuple[str, ...] = ()
        for segment in path[:-1]:
            reference = current.relationships.get(segment.lower())
            target = (self.schema.get(reference.reference_to[0])
                      if reference is not None and len(reference.reference_to) == 1 else None)
            if reference is None or target is None:
                if reference is not None and len(reference.reference_to) > 1:
                    raise located(MALFORMED_QUERY, self.query, ref.pos,
                                  f"Polymorphic relationship '{segment}' is valid SOQL but not "
                                  "supported by the emulator's SOQL engine")
                raise located(INVALID_FIELD, self.query, ref.pos,
                              f"Didn't understand relationship '{segment}' in field path. "
                              f"{CUSTOM_RELATIONSHIP_HINT}")
            key = (*key, segment.lower())
            joined = self._joins.get(key)
            if joined is None:
                hop = Hop(reference.relationship_name or segment, target,
                          f"{self.prefix}{len(self._joins) + 1}")
                self._joins[key] = (hop, alias, reference)
            else:
                hop = joined[0]
            hops.append(hop)
            current, alias = target, hop.alias
        found = current.field(path[-1])
        if found is None:
            raise located(INVALID_FIELD, self.query, ref.pos,
                          f"No such column '{path[-1]}' on entity '{current.name}'. "
                          f"{CUSTOM_FIELD_HINT}")
        return Resolved(found, current, alias, tuple(hops), ref)

    def joins_sql(self) -> str:
        return "".join(
            f" LEFT JOIN {quote(hop.target.name)} AS {hop.alias}"
            f" ON {hop.alias}.{quote('Id')} = {parent}.{quote(reference.name)}"
            for hop, parent, reference in self._joins.values()
        )
