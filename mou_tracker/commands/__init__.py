"""Command groups that arrive with their own capabilities (report, import, audit, period).

Each module imports ``cli`` from ``mou_tracker.cli`` and registers its commands on it. Keep module-level
imports light (click and the standard library): heavy imports go inside the command functions so that
`mou-tracker --help` and `progress` stay fast.
"""

MODULES = ("report", "importing", "audit", "users", "participants", "partnerships")
