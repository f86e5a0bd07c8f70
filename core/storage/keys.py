"""Keys made once per installation and kept in the database, so that every process has the same."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError

from core.storage.db import Database
from core.storage.models import InstallKey


async def install_key(db: Database, name: str) -> bytes:
    """The installation's key `name`, made at its first use (by whichever process comes first)."""
    async with db.read() as session:
        found = await session.get(InstallKey, name)
    if found is None:
        try:
            async with db.write() as session:
                session.add(InstallKey(name=name, value=secrets.token_hex(32)))
        except IntegrityError:  # another process made it meanwhile: theirs is the key
            pass
        async with db.read() as session:
            found = await session.get_one(InstallKey, name)
    return bytes.fromhex(found.value)
