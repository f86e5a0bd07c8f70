"""The in-loop SQLite and the lean statements: private to core.storage."""
