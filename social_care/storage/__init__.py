"""Storage: tables, engines for SQLite and PostgreSQL, migrations and row claims."""
