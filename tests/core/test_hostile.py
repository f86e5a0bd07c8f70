"""Hostile input: each kind rejected or neutralized, with a clear message and nothing half-stored."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.delivery.attachments import AttachmentStore, FileTooLarge, FileTypeNotAllowed, IncomingFile, safe_name
from core.domain.errors import FieldTooLong
from core.services import Services
from core.services.steps import clean
from core.storage.models import Ticket


def _file(name: str, data: bytes, size: int | None = None) -> IncomingFile:
    async def fetch() -> bytes:
        return data

    return IncomingFile(name, len(data) if size is None else size, fetch)


def test_controls_and_direction_overrides_are_removed() -> None:
    hostile = "\u202eLogin\u202c fails\x00\x07 \u2066now\u2069\r\nline two\ttab"
    assert clean("subject", hostile, 120) == "Login fails now\nline two\ttab"


def test_joiners_emoji_and_persian_survive() -> None:
    text = "خطا در ورود\u200cها 👩\u200d💻 🇮🇷"
    assert clean("subject", text, 120) == text


def test_a_megabyte_of_text_is_refused() -> None:
    with pytest.raises(FieldTooLong) as info:
        clean("description", "x" * 1_000_000, 4000)
    assert info.value.params["length"] == 1_000_000


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd", "passwd.txt"),
    ("..\\..\\windows\\system32\\evil.txt", "evil.txt"),
    ("report\udcff\udcfe.txt", "report.txt"),  # broken UTF-8, as surrogate escapes
    ("\u202egnp.exe", "gnp.exe.txt"),
    ("", "file.txt"),
    ("a" * 300 + ".txt", "a" * 100 + ".txt"),
])
def test_file_names_are_made_safe(name: str, expected: str) -> None:
    assert safe_name(name, "text/plain") == expected


async def test_files_by_content(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    with pytest.raises(FileTypeNotAllowed):
        await store.receive(_file("invoice.pdf", b"MZ\x90\x00\x03" + b"\x00" * 500))  # a Windows program
    with pytest.raises(FileTypeNotAllowed):
        await store.receive(_file("run.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 500))  # a Linux program
    with pytest.raises(FileTooLarge):
        await store.receive(_file("big.log", b"", size=10 * 1024 * 1024 + 1))
    exact = await store.receive(_file("edge.log", b"a" * (10 * 1024 * 1024)))
    assert exact.size == 10 * 1024 * 1024
    stored = await store.receive(_file("../../escape.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n"))
    assert Path(stored.stored_path).resolve().is_relative_to(tmp_path.resolve())
    assert stored.filename == "escape.pdf" and stored.mime_type == "application/pdf"


async def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\x00" * (200 * 1024 * 1024))  # 200 MB that packs to ~200 KB
    assert len(buffer.getvalue()) < 10 * 1024 * 1024
    with pytest.raises(FileTypeNotAllowed):
        await AttachmentStore(tmp_path).receive(_file("photos.zip", buffer.getvalue()))
    fine = io.BytesIO()
    with zipfile.ZipFile(fine, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("log.txt", "2026-11-20 error\n" * 100)
    assert (await AttachmentStore(tmp_path).receive(_file("logs.zip", fine.getvalue()))).mime_type == "application/zip"


async def test_nothing_stored_half_way(service: Services) -> None:
    customer = await service.customers.customer("telegram", "1", "1", "x", "en")
    with pytest.raises(FieldTooLong):
        await service.tickets.open_ticket(customer.id, department="technical", request_type="bug", subject="ok",
                                  description="\u202e" + "y" * 5000)
    async with service.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(Ticket))).scalar_one() == 0
    ticket = await service.tickets.open_ticket(customer.id, department="technical", request_type="bug",
                                       subject="\u202eevil\u202c subject", description="fine")
    assert ticket.subject == "evil subject"
