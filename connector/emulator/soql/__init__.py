"""The emulator's SOQL engine: parse, check against the schema, compile to SQLite.

    cq = compile_soql(schema, "SELECT Id, Account.Name FROM Contact", now=now, tz=tz)
    rows = conn.execute(cq.sql, cq.params).fetchall()
    records = [cq.shape(row) for row in rows]
"""

from connector.emulator.soql.compiler import compile_soql
from connector.emulator.soql.errors import SoqlError
from connector.emulator.soql.shape import CompiledQuery

__all__ = ["CompiledQuery", "SoqlError", "compile_soql"]
