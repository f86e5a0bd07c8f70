"""The getUpdates transport leaves out the updates in hand, before python-telegram-bot parses them."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot

from adapters.telegram.request import AiohttpRequest, UpdatesRequest, readable

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


async def _bot(url: str, in_hand: set[int]) -> tuple[Bot, UpdatesRequest]:
    request = UpdatesRequest()
    request.seen = lambda update_id: update_id in in_hand
    bot = Bot(TOKEN, base_url=url, request=request, get_updates_request=request)
    await request.initialize()
    return bot, request


class Unparsed:
    """Stands in for the json module where the answer must be seen through without parsing."""

    @staticmethod
    def loads(*_: Any) -> None:
        raise AssertionError("parsed")


@pytest.mark.parametrize("separators", [(", ", ": "), (",", ":")])
async def test_only_fresh_updates_are_parsed(server: tuple[str, list[bytes]], monkeypatch: pytest.MonkeyPatch,
                                             separators: tuple[str, str]) -> None:
    url, answers = server
    bot, request = await _bot(url, {1, 2})
    monkeypatch.setattr("adapters.telegram.request.json", Unparsed)  # cut, not parsed and rebuilt
    updates = [_update(1, "a"), _update(2, "b"), _update(3, "c"), _update(4, "d ] } ,{")]
    answers.append(json.dumps({"ok": True, "result": updates}, separators=separators).encode())
    got = await bot.get_updates()
    assert [u.update_id for u in got] == [3, 4] and request.left_out == 2
    assert [u.message.text for u in got if u.message] == ["c", "d ] } ,{"]
    await request.shutdown()


async def test_an_update_of_another_shape_is_parsed(server: tuple[str, list[bytes]]) -> None:
    url, answers = server
    bot, request = await _bot(url, {1})
    late_key = _update(2, "b")
    late_key = {"message": late_key["message"], "update_id": 2}  # update_id not first: no cut
    answers.append(json.dumps({"ok": True, "result": [_update(1, "a"), late_key]}).encode())
    got = await bot.get_updates()
    assert [u.update_id for u in got] == [2] and request.left_out == 1
    await request.shutdown()


async def test_an_answer_of_updates_in_hand_only_is_empty(server: tuple[str, list[bytes]],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    url, answers = server
    bot, request = await _bot(url, {1, 2})
    monkeypatch.setattr("adapters.telegram.request.json", Unparsed)
    answers.append(json.dumps({"ok": True, "result": [_update(1, "a"), _update(2, "b")]},
                              separators=(",", ":")).encode())
    assert await bot.get_updates() == () and request.left_out == 2
    await request.shutdown()


async def test_update_id_inside_a_text_is_not_taken_for_an_update(server: tuple[str, list[bytes]]) -> None:
    url, answers = server
    bot, request = await _bot(url, {1})
    # A customer typing what looks like a key: JSON escapes its quotes, so it is no key.
    sneaky = _update(4, '{"update_id": 1} and "update_id":1')
    answers.append(json.dumps({"ok": True, "result": [_update(1, "a"), sneaky]}).encode())
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [4] and request.left_out == 1
    assert updates[0].message is not None and updates[0].message.text == sneaky["message"]["text"]
    await request.shutdown()


async def test_results_not_read_are_not_built_and_failures_still_raise() -> None:
    from telegram.error import BadRequest

    answers = [{"ok": True, "result": {"message_id": 5, "date": 0, "text": "hi", "chat": {"id": 7, "type": "private"}}},
               {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
               {"ok": True, "result": {"message_id": 6, "date": 0, "text": "hi",
                                       "chat": {"id": -1007, "type": "supergroup"}}}]

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
        in_group = await bot.send_message(-1007, "hi")  # into a group (the agents' desk): read
        assert in_group.message_id == 6
        me = await bot.get_me()  # a result that is read is built as usual
        assert me.id == 1 and me.first_name == "B"
    finally:
        await request.shutdown()
        await runner.cleanup()


def test_cut_answers_are_the_new_updates_whatever_the_texts() -> None:
    """Many answers with hostile texts (quotes, braces, commas, keys, escapes, other scripts):
    what is left is exactly the new updates, as JSON, however the answer was laid out."""
    from adapters.telegram.request import leave_out

    rng = random.Random(8)
    pieces = ['"update_id": 3', '{"update_id":9},', "}]}", "\\", '\\"', ",{", "سلام", "Příliš", "\n", " ", "x"]
    for case in range(600):
        count = rng.randint(1, 12)
        updates = [_update(100 + i, "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6))))
                   for i in range(count)]
        in_hand = rng.randint(0, count)
        indent = rng.choice([None, 1])
        separators = rng.choice([(",", ":"), (", ", ": ")])
        body = json.dumps({"ok": True, "result": updates}, ensure_ascii=rng.random() < 0.5, indent=indent,
                          separators=separators).encode()
        left, left_out = leave_out(body, lambda update_id: update_id < 100 + in_hand)
        assert json.loads(left)["result"] == updates[in_hand:], case
        assert left_out == in_hand, case


def test_a_screened_answer_leaves_out_only_the_updates_python_telegram_bot_cannot_read() -> None:
    unreadable: list[tuple[int, str]] = []
    bad = _update(2, "x")
    del bad["message"]["chat"]["type"]  # Chat requires it
    body = json.dumps({"ok": True, "result": [_update(1, "a"), bad, _update(3, "b")]}).encode()
    kept = json.loads(readable(body, lambda update_id, exc: unreadable.append((update_id, type(exc).__name__))))
    assert [u["update_id"] for u in kept["result"]] == [1, 3]
    assert unreadable == [(2, "TypeError")]
    whole = json.dumps({"ok": True, "result": [_update(4, "c")]}).encode()
    assert readable(whole, lambda update_id, exc: unreadable.append((update_id, "?"))) == whole
    assert len(unreadable) == 1
