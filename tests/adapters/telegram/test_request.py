"""The transports: getUpdates keeps each update as Telegram sent it (for the poller's record);
results nobody reads are not built."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, Update

from adapters.telegram.request import AiohttpRequest, UpdatesRequest

TOKEN = "1234:request-test"


def _update(update_id: int, text: str) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": text,
        "chat": {"id": 7, "type": "private"}, "from": {"id": 7, "is_bot": False, "first_name": "A"}}}


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A Bot API answering getUpdates with whatever the test queued (raw bytes)."""
    answers: list[bytes] = []

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=answers.pop(0), content_type="application/json")

    runner, url = await _serve({"getUpdates": handler})
    yield url, answers
    await runner.cleanup()


async def _serve(handlers: dict[str, Any]) -> tuple[web.AppRunner, str]:
    """A local Bot API answering the given methods; its runner and base URL."""
    app = web.Application()
    for method, handler in handlers.items():
        app.router.add_post(f"/bot{TOKEN}/{method}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/bot"


async def _bot(url: str) -> tuple[Bot, UpdatesRequest]:
    request = UpdatesRequest()
    bot = Bot(TOKEN, base_url=url, request=request, get_updates_request=request)
    await request.initialize()
    return bot, request


async def test_each_update_is_kept_as_telegram_sent_it(server: tuple[str, list[bytes]]) -> None:
    url, answers = server
    bot, request = await _bot(url)
    sneaky = _update(4, '{"update_id": 1} and "update_id":1 ] } ,{ سلام Příliš')
    updates = [_update(3, "c"), sneaky]
    answers.append(json.dumps({"ok": True, "result": updates}).encode())
    got = await bot.get_updates()
    assert [u.update_id for u in got] == [3, 4]
    assert {k: json.loads(v) for k, v in request.raw.items()} == {3: updates[0], 4: sneaky}
    # What was kept becomes the same update again (the poller's orphans are read back so).
    again = Update.de_json(json.loads(request.raw[4]), bot)
    assert again is not None and again.message is not None and again.message.text == sneaky["message"]["text"]
    answers.append(json.dumps({"ok": True, "result": []}).encode())
    assert await bot.get_updates() == () and request.raw == {}  # nothing left from the last answer
    await request.shutdown()


async def test_results_not_read_are_not_built_and_failures_still_raise() -> None:
    from telegram.error import BadRequest

    answers = [{"ok": True, "result": {"message_id": 5, "date": 0, "text": "hi", "chat": {"id": 7, "type": "private"}}},
               {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}]

    async def handler(request: web.Request) -> web.Response:
        answer = answers.pop(0)
        return web.json_response(answer, status=200 if answer["ok"] else 400)

    async def me(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "B"}})

    runner, url = await _serve({"sendMessage": handler, "getMe": me})
    request = AiohttpRequest(unread=frozenset({"sendMessage"}))
    await request.initialize()
    bot = Bot(TOKEN, base_url=url, request=request)
    try:
        assert await bot.send_message(7, "hi") is True  # not built into a Message
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(7, "hi")
        me = await bot.get_me()  # a result that is read is built as usual
        assert me.id == 1 and me.first_name == "B"
    finally:
        await request.shutdown()
        await runner.cleanup()
