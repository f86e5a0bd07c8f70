"""Receiving customers' files: size checked before download, type from the content, safe names.

Files are stored content-addressed under ATTACHMENTS_DIR (sha256), so a name can never
escape the directory or overwrite another file.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import filetype

from core.domain.errors import DomainError
from core.domain.model import NewAttachment

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 10  # per ticket form
MAX_UNZIPPED = 100 * 1024 * 1024  # a zip (or office file) that expands past this is refused
MAX_RATIO = 100

ALLOWED = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
    "image/heic": ".heic", "image/bmp": ".bmp", "image/tiff": ".tif",
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    "application/msword": ".doc", "application/vnd.ms-excel": ".xls",
    "application/vnd.ms-powerpoint": ".ppt", "application/rtf": ".rtf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.oasis.opendocument.presentation": ".odp",
    "text/plain": ".txt",
}
_ZIPPED = {m for m, e in ALLOWED.items() if e in (".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp")}
_TEXT_EXTS = {".txt", ".log", ".csv", ".json", ".xml", ".yaml", ".yml", ".ini", ".conf", ".md", ".eml"}
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


class FileTooLarge(DomainError):
    code = "file_too_large"

    def __init__(self, size: int) -> None:
        super().__init__(f"file of {size} bytes exceeds {MAX_BYTES}", size=size, limit_mb=MAX_BYTES // 2**20)


class FileTypeNotAllowed(DomainError):
    code = "file_type_not_allowed"

    def __init__(self, detected: str | None) -> None:
        super().__init__(f"file type {detected or 'unknown'} is not accepted", detected=detected or "")


class EmptyFile(DomainError):
    code = "empty_file"

    def __init__(self) -> None:
        super().__init__("the file is empty")


class FileUnavailable(DomainError):
    code = "file_unavailable"

    def __init__(self) -> None:
        super().__init__("the file could not be downloaded")


class TooManyFiles(DomainError):
    code = "too_many_files"

    def __init__(self) -> None:
        super().__init__(f"at most {MAX_FILES} files per ticket", limit=MAX_FILES)


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A file announced by a platform; `fetch` downloads it only once the size is known to fit."""

    filename: str
    size: int | None
    fetch: Callable[[], Awaitable[bytes]]
    declared_mime: str | None = None
    platform_file_id: str | None = None


async def prefetched(file: IncomingFile) -> IncomingFile:
    """The file downloaded now, before its event's transaction opens (a download must not hold
    the database's write lock); a failure is kept and raised when the bytes are asked for. A file
    declared too large is left undownloaded: receive() refuses it."""
    if file.size is not None and file.size > MAX_BYTES:
        return file
    try:
        data = await file.fetch()
    except Exception as exc:
        failure = exc

        async def fail() -> bytes:
            raise failure

        return replace(file, fetch=fail)

    async def ready() -> bytes:
        return data

    return replace(file, fetch=ready)


def sniff(data: bytes, filename: str) -> str | None:
    """The MIME type told by the content (never by the name); None when not accepted."""
    kind = filetype.guess(data)
    if kind is not None:
        return kind.mime if kind.mime in ALLOWED else None
    if data.startswith(b"{\\rtf"):
        return "application/rtf"
    if _is_text(data):
        return "text/plain"
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    return controls <= len(text) // 100


def _zip_is_sane(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = 0
            for info in zf.infolist():
                total += info.file_size
                if total > MAX_UNZIPPED:
                    return False
                if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                    return False
                if info.filename.lower().endswith(".zip") and info.file_size > MAX_BYTES:
                    return False
        return True
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def safe_name(name: str, mime: str) -> str:
    """A display name with no path, controls or direction overrides, ending as its type does."""
    if isinstance(name, bytes):  # pragma: no cover - adapters pass str
        name = name.decode("utf-8", "replace")
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    base = _UNSAFE.sub("_", base).strip(" .")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    wanted = ALLOWED[mime]
    ext = "." + ext.lower() if ext else ""
    if not (ext == wanted or (mime == "text/plain" and ext in _TEXT_EXTS)
            or (wanted == ".jpg" and ext == ".jpeg") or (wanted == ".tif" and ext == ".tiff")):
        stem, ext = base, wanted
    stem = stem[:100] or "file"
    return f"{stem}{ext}"


class AttachmentStore:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    async def receive(self, file: IncomingFile) -> NewAttachment:
        if file.size is not None and file.size > MAX_BYTES:
            raise FileTooLarge(file.size)  # refused before a single byte is downloaded
        try:
            data = await file.fetch()
        except Exception as exc:
            raise FileUnavailable() from exc
        if len(data) > MAX_BYTES:
            raise FileTooLarge(len(data))
        if not data:
            raise EmptyFile()
        mime = await asyncio.to_thread(sniff, data, file.filename)  # reads it all: off the loop
        if mime is None:
            kind = filetype.guess(data)
            raise FileTypeNotAllowed(kind.mime if kind else file.declared_mime)
        if mime in _ZIPPED and not await asyncio.to_thread(_zip_is_sane, data):
            raise FileTypeNotAllowed("application/zip")
        digest = hashlib.sha256(data).hexdigest()
        path = self.directory / digest[:2] / f"{digest}{ALLOWED[mime]}"
        await asyncio.to_thread(_write_once, path, data)
        return NewAttachment(
            filename=safe_name(file.filename, mime),
            mime_type=mime,
            size=len(data),
            sha256=digest,
            stored_path=str(path),
            platform_file_id=file.platform_file_id,
        )


def _write_once(path: Path, data: bytes) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
