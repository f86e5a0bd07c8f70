"""The queries every platform event runs, each in one place: below SQLAlchemy on the event's lean
connection when its unit has one (core.storage.fastpath), through SQLAlchemy otherwise."""
