"""Schema migrations of the state database, applied in order, tracked by
``PRAGMA user_version``. Never edit a released migration: append a new one."""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the ledger, links, Salesforce mirror, written values, runs, dead letters
    """
    CREATE TABLE people (
        map_id TEXT PRIMARY KEY,
        email TEXT,
        email_valid INTEGER NOT NULL,
        data TEXT NOT NULL,
        hash TEXT NOT NULL,
        first_run INTEGER NOT NULL,
        seen_run INTEGER NOT NULL,
        changed_run INTEGER NOT NULL
    );
    CREATE INDEX ix_people_email ON people(email);
    CREATE INDEX ix_people_changed ON people(changed_run);

    CREATE TABLE programs (
        program_id TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        hash TEXT NOT NULL,
        seen_run INTEGER NOT NULL,
        changed_run INTEGER NOT NULL
    );

    CREATE TABLE touches (
        touch_id TEXT PRIMARY KEY,
        map_id TEXT NOT NULL,
        program_id TEXT,
        touch_type TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        is_response INTEGER NOT NULL,
        data TEXT NOT NULL,
        hash TEXT NOT NULL,
        seen_run INTEGER NOT NULL,
        changed_run INTEGER NOT NULL
    );
    CREATE INDEX ix_touches_person ON touches(map_id, occurred_at, touch_id);
    CREATE INDEX ix_touches_program ON touches(program_id);
    CREATE INDEX ix_touches_changed ON touches(changed_run);

    CREATE TABLE target_accounts (
        key TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        seen_run INTEGER NOT NULL
    );

    CREATE TABLE person_links (
        map_id TEXT PRIMARY KEY,
        sobject TEXT NOT NULL,
        sf_id TEXT NOT NULL,
        rule TEXT NOT NULL,
        detail TEXT NOT NULL,
        account_id TEXT,
        run_id INTEGER NOT NULL
    );
    CREATE INDEX ix_links_sf ON person_links(sf_id);

    CREATE TABLE sf_records (
        sobject TEXT NOT NULL,
        id TEXT NOT NULL,
        email TEXT,
        map_key TEXT,
        parent_id TEXT,
        lead_id TEXT,
        contact_id TEXT,
        created_date TEXT,
        modstamp TEXT,
        is_deleted INTEGER NOT NULL DEFAULT 0,
        fields TEXT NOT NULL,
        PRIMARY KEY (sobject, id)
    );
    CREATE INDEX ix_sf_email ON sf_records(sobject, email);
    CREATE INDEX ix_sf_key ON sf_records(sobject, map_key);
    CREATE INDEX ix_sf_parent ON sf_records(sobject, parent_id);
    CREATE INDEX ix_sf_member_lead ON sf_records(sobject, parent_id, lead_id);
    CREATE INDEX ix_sf_member_contact ON sf_records(sobject, parent_id, contact_id);

    CREATE TABLE written (
        sobject TEXT NOT NULL,
        id TEXT NOT NULL,
        field TEXT NOT NULL,
        value TEXT,
        run_id INTEGER NOT NULL,
        PRIMARY KEY (sobject, id, field)
    );

    CREATE TABLE cycle_events (
        map_id TEXT NOT NULL,
        at TEXT NOT NULL,
        reason TEXT NOT NULL,
        run_id INTEGER NOT NULL,
        PRIMARY KEY (map_id, at, reason)
    );

    CREATE TABLE watermarks (
        scope TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        run_id INTEGER NOT NULL,
        PRIMARY KEY (scope, name)
    );

    CREATE TABLE runs (
        run_id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        as_of TEXT NOT NULL,
        status TEXT NOT NULL,
        summary TEXT
    );

    CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        sobject TEXT,
        ref TEXT NOT NULL,
        map_id TEXT,
        error_code TEXT,
        message TEXT NOT NULL,
        file TEXT,
        row INTEGER,
        field TEXT,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        resolved_run INTEGER
    );
    CREATE INDEX ix_dead_open ON dead_letters(resolved_run, kind);
    CREATE UNIQUE INDEX ix_dead_ref ON dead_letters(kind, ref) WHERE resolved_run IS NULL;

    CREATE TABLE findings (
        run_id INTEGER NOT NULL,
        category TEXT NOT NULL,
        object TEXT,
        record_id TEXT,
        map_id TEXT,
        field TEXT,
        salesforce_value TEXT,
        expected_value TEXT,
        detail TEXT
    );
    CREATE INDEX ix_findings_run ON findings(run_id, category);
    """,
    # 2: close events observed on Salesforce records (a Lead's status entering a
    # recycle status), stored with the mirror rows that revealed them
    """
    CREATE TABLE record_events (
        sf_id TEXT NOT NULL,
        at TEXT NOT NULL,
        reason TEXT NOT NULL,
        run_id INTEGER NOT NULL,
        PRIMARY KEY (sf_id, at, reason)
    );
    """,
    # 3: audit findings as a current state (open until their cause is fixed, then
    # closed with the date); one row per audit for `connector audit --history`
    """
    CREATE TABLE audits (
        audit_id INTEGER PRIMARY KEY AUTOINCREMENT,
        as_of TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        status TEXT NOT NULL,
        summary TEXT NOT NULL,
        api_calls INTEGER NOT NULL,
        opened INTEGER NOT NULL,
        closed INTEGER NOT NULL
    );

    CREATE TABLE audit_findings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        category TEXT NOT NULL,
        data TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        opened_audit INTEGER NOT NULL,
        seen_audit INTEGER NOT NULL,
        closed_at TEXT,
        closed_audit INTEGER
    );
    CREATE UNIQUE INDEX ix_audit_open ON audit_findings(key) WHERE closed_audit IS NULL;
    CREATE INDEX ix_audit_category ON audit_findings(category, closed_audit);
    """,
    # 4: when each person's computed values next change with time alone (an SLA
    # running out, behavior points decaying), so a run re-plans them then
    """
    CREATE TABLE person_due (
        map_id TEXT PRIMARY KEY,
        due_at TEXT NOT NULL
    );
    CREATE INDEX ix_person_due ON person_due(due_at);
    """,
    # 5: the funnel facts a sync computes, for `connector report funnel` as set-based
    # SQL: each person's stage entries per funnel cycle (with the cycle's first-touch
    # channel and program and the person's original source) and each account's
    # target flag and engaged date
    """
    CREATE TABLE funnel_stages (
        map_id TEXT NOT NULL,
        cycle INTEGER NOT NULL,
        stage TEXT NOT NULL,
        at TEXT NOT NULL,
        inferred INTEGER NOT NULL,
        closed_at TEXT,
        channel TEXT,
        program_id TEXT,
        source_channel TEXT,
        source_program_id TEXT,
        PRIMARY KEY (map_id, cycle, stage)
    );
    CREATE INDEX ix_funnel_stages_at ON funnel_stages(stage, at);
    CREATE TABLE funnel_accounts (
        account_id TEXT PRIMARY KEY,
        target INTEGER NOT NULL,
        target_at TEXT,
        engaged_at TEXT
    );
    """,
    # 6: the inputs each opportunity's credits were last computed from (a digest),
    # so `attribution run` recomputes only opportunities whose inputs changed
    """
    CREATE TABLE attribution_inputs (
        opportunity_id TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL
    );
    """,
    # 7: each mirror row's digest of its comparable form, so a re-read recognises
    # the connector's own writes without decoding the stored copy
    """
    ALTER TABLE sf_records ADD COLUMN digest TEXT;
    """,
    # 8: the values last written, one row per record (a JSON object by field)
    # instead of one row per field
    """
    CREATE TABLE written_records (
        sobject TEXT NOT NULL,
        id TEXT NOT NULL,
        fields TEXT NOT NULL,
        run_id INTEGER NOT NULL,
        PRIMARY KEY (sobject, id)
    );
    INSERT INTO written_records (sobject, id, fields, run_id)
        SELECT sobject, id, json_group_object(field, json(value)), max(run_id)
        FROM written GROUP BY sobject, id;
    DROP TABLE written;
    """,
    # 9: every meaningful engagement of each person (funnel facts, kept by the sync
    # with the stages), so the account funnel can open a new buying cycle when an
    # account engages again after a won or lost opportunity
    """
    CREATE TABLE funnel_engagements (
        map_id TEXT NOT NULL,
        at TEXT NOT NULL,
        cycle INTEGER NOT NULL,
        channel TEXT,
        PRIMARY KEY (map_id, at)
    );
    """,
    # 10: every touch field the engines read, as columns, so the ledger hands out
    # touches built from plain values instead of re-validating each one's JSON
    # (``data`` stays: it carries ``extra`` and ``origin``, and the hash is of it)
    """
    ALTER TABLE touches ADD COLUMN url TEXT;
    ALTER TABLE touches ADD COLUMN referrer TEXT;
    ALTER TABLE touches ADD COLUMN utm_source TEXT;
    ALTER TABLE touches ADD COLUMN utm_medium TEXT;
    ALTER TABLE touches ADD COLUMN utm_campaign TEXT;
    ALTER TABLE touches ADD COLUMN utm_content TEXT;
    ALTER TABLE touches ADD COLUMN utm_term TEXT;
    ALTER TABLE touches ADD COLUMN channel TEXT NOT NULL DEFAULT '';
    ALTER TABLE touches ADD COLUMN channel_rule TEXT NOT NULL DEFAULT '';
    ALTER TABLE touches ADD COLUMN is_conversion INTEGER NOT NULL DEFAULT 0;
    UPDATE touches SET
        url = json_extract(data, '$.url'),
        referrer = json_extract(data, '$.referrer'),
        utm_source = json_extract(data, '$.utm_source'),
        utm_medium = json_extract(data, '$.utm_medium'),
        utm_campaign = json_extract(data, '$.utm_campaign'),
        utm_content = json_extract(data, '$.utm_content'),
        utm_term = json_extract(data, '$.utm_term'),
        channel = coalesce(json_extract(data, '$.channel'), ''),
        channel_rule = coalesce(json_extract(data, '$.channel_rule'), ''),
        is_conversion = coalesce(json_extract(data, '$.is_conversion'), 0);
    -- json_extract cuts a string at an escaped NUL (rare): those rows are decoded
    -- with the NUL escapes standing for U+FFFF, a noncharacter, then put back
    -- (escaped backslashes are set aside first, so only real escapes change).
    -- A row already holding U+FFFF or U+FFFE cannot be: its hash is cleared, so
    -- the next read of that touch rewrites every column.
    CREATE TEMP TABLE nul_touches AS
        SELECT touch_id, replace(replace(replace(data, '\\\\', char(65534)),
                                         '\\u0000', '\\uffff'),
                                 char(65534), '\\\\') AS data
        FROM touches WHERE instr(data, '\\u0000') > 0
            AND instr(data, char(65535)) = 0 AND instr(data, char(65534)) = 0;
    UPDATE touches SET
        url = replace(json_extract(n.data, '$.url'), char(65535), char(0)),
        referrer = replace(json_extract(n.data, '$.referrer'), char(65535), char(0)),
        utm_source = replace(json_extract(n.data, '$.utm_source'), char(65535), char(0)),
        utm_medium = replace(json_extract(n.data, '$.utm_medium'), char(65535), char(0)),
        utm_campaign = replace(json_extract(n.data, '$.utm_campaign'), char(65535), char(0)),
        utm_content = replace(json_extract(n.data, '$.utm_content'), char(65535), char(0)),
        utm_term = replace(json_extract(n.data, '$.utm_term'), char(65535), char(0)),
        channel = replace(json_extract(n.data, '$.channel'), char(65535), char(0)),
        channel_rule = replace(json_extract(n.data, '$.channel_rule'), char(65535), char(0))
        FROM temp.nul_touches n WHERE n.touch_id = touches.touch_id;
    DROP TABLE temp.nul_touches;
    UPDATE touches SET hash = ''
        WHERE instr(data, '\\u0000') > 0
            AND (instr(data, char(65535)) > 0 OR instr(data, char(65534)) > 0);
    """,
    # 11: the records this connector created and has not read back yet (no
    # SystemModstamp): how many tells the next incremental read its size before
    # its first page, so a large read-back starts as a Bulk query
    """
    CREATE INDEX ix_sf_records_unread ON sf_records(sobject) WHERE modstamp IS NULL;
    """,
    # 12: a batch's Campaign Members (and contact roles) are looked up by their
    # person's id; the member indexes start with the campaign, so each lookup
    # scanned every member of the org (quadratic in the org's size)
    """
    CREATE INDEX ix_sf_lead ON sf_records(sobject, lead_id) WHERE lead_id IS NOT NULL;
    CREATE INDEX ix_sf_contact ON sf_records(sobject, contact_id) WHERE contact_id IS NOT NULL;
    """,
]
