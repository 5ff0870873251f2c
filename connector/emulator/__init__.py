"""The local Salesforce org emulator: HTTPS on loopback, SQLite-backed (docs/emulator.md).

Layers, bottom up: ``schema``/``ids`` (what the org holds), ``store`` (SQLite),
``records``/``dml``/``semantics``/``convert`` (saving records as Salesforce does),
``auth``/``usage``/``faults``/``org`` (one org's state), ``rest``/``collections``/
``query``/``bulk``/``control`` behind ``app`` (the WSGI application), served by
``server`` (HTTPS) or ``inprocess`` (a requests transport); ``seed`` loads data,
``testing`` and ``cli`` are the entry points. ``soql/`` compiles SOQL to SQLite.
"""
