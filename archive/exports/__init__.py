"""Export formats beyond the record files of ``archive.export``: SQLite (Datasette), WACZ."""
