"""A file in a Telegram message (a document or a photo) as the file core receives: its size and
name known before any download, its bytes fetched only when asked for. Customers' messages and
agents' messages in a desk topic take their files the same way."""

from __future__ import annotations

from telegram import Bot, Message

from core.delivery.attachments import IncomingFile


def file_of(bot: Bot, message: Message) -> IncomingFile | None:
    """The message's document, or its largest photo; None when it carries neither."""
    if message.document is not None:
        doc = message.document
        name, size, file_id = doc.file_name or "document", doc.file_size, doc.file_id
        mime = doc.mime_type
    elif message.photo:
        photo = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        # No extension: the stored name gets the one of the type found in the content.
        name, size, file_id, mime = f"photo_{photo.file_unique_id}", photo.file_size, photo.file_id, "image/jpeg"
    else:
        return None

    async def fetch() -> bytes:
        file = await bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())

    return IncomingFile(name, size, fetch, declared_mime=mime, platform_file_id=file_id)
