"""The terminal UI (Textual). The only package that imports Textual; it reads through the reader
(``mou_tracker.read``) and writes through ``Services`` only, both built by ``mou_tracker.app_root``; it never
imports the database layer (tests/test_import_contracts.py)."""
