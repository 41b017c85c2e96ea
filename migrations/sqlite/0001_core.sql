-- The working core: organisations, listings, and the change log the index follows.
CREATE TABLE organizations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT UNIQUE,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    city TEXT,
    website TEXT,
    description TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT UNIQUE,
    organization_id INTEGER REFERENCES organizations(id),
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    keywords TEXT NOT NULL DEFAULT '[]',
    industry TEXT,
    maturity TEXT,
    trl INTEGER,
    transfer_modes TEXT NOT NULL DEFAULT '[]',
    price_min BIGINT,
    price_max BIGINT,
    patents TEXT NOT NULL DEFAULT '[]',
    team TEXT,
    contact TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX results_org ON results(organization_id);

CREATE TABLE needs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT UNIQUE,
    organization_id INTEGER REFERENCES organizations(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    keywords TEXT NOT NULL DEFAULT '[]',
    industry TEXT,
    cooperation_modes TEXT NOT NULL DEFAULT '[]',
    budget_min BIGINT,
    budget_max BIGINT,
    deadline TEXT,
    required_maturity TEXT,
    contact TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX needs_org ON needs(organization_id);

CREATE TABLE experts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT UNIQUE,
    organization_id INTEGER REFERENCES organizations(id),
    name TEXT NOT NULL,
    title TEXT,
    research_areas TEXT NOT NULL DEFAULT '[]',
    keywords TEXT NOT NULL DEFAULT '[]',
    summary TEXT NOT NULL DEFAULT '',
    industry TEXT,
    contact TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX experts_org ON experts(organization_id);

-- Every write to a listing appends a row here in the same transaction. The search index
-- stores the last sequence number it has applied and catches up from this table.
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    entity_id BIGINT NOT NULL
);
