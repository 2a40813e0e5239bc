"""Events above the prompt come in batches, one write a frame, replies after
the events that came before them, and a flood as a few fold notes."""

from __future__ import annotations

import asyncio
import json

from qmpshell.prompt.eventview import FRAME, EventView


def ev(name: str, n: int) -> dict[str, object]:
    return {"event": name, "data": {"n": n}}


def test_a_flood_is_a_few_writes_and_notes() -> None:
    async def scenario() -> list[str]:
        writes: list[str] = []
        view = EventView(json.dumps, writes.append, asyncio.get_running_loop())
        for i in range(100_000):
            view.add(ev("BLOCK_IO_ERROR", i))
        await asyncio.sleep(FRAME * 3)
        view.write('{"return": {}}')
        view.close()
        return writes

    writes = asyncio.run(scenario())
    assert len(writes) <= 4
    text = "\n".join(writes)
    assert "events folded; .events shows them" in text
    assert text.endswith('{"return": {}}') or "folded" in writes[-1]
    assert text.count('"BLOCK_IO_ERROR"') < 200


def test_a_reply_comes_after_the_events_before_it() -> None:
    async def scenario() -> list[str]:
        writes: list[str] = []
        view = EventView(json.dumps, writes.append, asyncio.get_running_loop())
        view.add(ev("STOP", 1))
        view.write("reply")
        await asyncio.sleep(FRAME * 2)
        return writes

    assert asyncio.run(scenario()) == [json.dumps(ev("STOP", 1)) + "\nreply"]


def test_events_from_another_thread_are_printed_on_the_loop() -> None:
    async def scenario() -> list[str]:
        writes: list[str] = []
        view = EventView(json.dumps, writes.append, asyncio.get_running_loop())
        await asyncio.get_running_loop().run_in_executor(None, view.add, ev("STOP", 1))
        await asyncio.sleep(FRAME * 3)
        return writes

    assert asyncio.run(scenario()) == [json.dumps(ev("STOP", 1))]
