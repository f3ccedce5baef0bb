"""The terminal UI (Textual). The only package that imports Textual; it reads through the service layer's
read-side queries and the indicator engine, and writes through ``Services`` only."""
