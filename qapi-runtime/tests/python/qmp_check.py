"""Drive a QMP server with QEMU's own Python client, qemu.qmp.

Usage: python qmp_check.py SOCKET

Connects, negotiates, runs commands (typed arguments, pipelined calls,
an out-of-band call), receives an event, gets CommandNotFound for an
unknown command and keeps its session. Exits non-zero on any failure.
"""

import asyncio
import sys

from qemu.qmp import ExecuteError, QMPClient


async def main(socket_path: str) -> None:
    qmp = QMPClient("qapi-runtime-check")
    await qmp.connect(socket_path)
    greeting = qmp.greeting
    assert greeting is not None
    print("greeting:", greeting._raw)
    assert "oob" in greeting.QMP.capabilities

    status = await qmp.execute("query-status")
    assert status == {"status": "running", "running": True}, status
    version = await qmp.execute("query-version")
    assert version["qemu"]["major"] == 10, version
    commands = await qmp.execute("query-commands")
    assert {"name": "query-status"} in commands, commands
    assert await qmp.execute("add", {"a": 40, "b": 2}) == 42

    # An event, received while the command that causes it runs.
    with qmp.listener("PYTHON_EVENT") as listener:
        await qmp.execute("emit-event", {"name": "PYTHON_EVENT", "data": {"x": 1}})
        event = await asyncio.wait_for(listener.get(), 5)
    assert event["event"] == "PYTHON_EVENT", event
    assert event["data"] == {"x": 1}, event
    assert set(event["timestamp"]) == {"seconds", "microseconds"}, event

    # Errors, and the session goes on.
    try:
        await qmp.execute("no-such-command")
    except ExecuteError as err:
        assert err.error_class == "CommandNotFound", err.error_class
        assert str(err) == "The command no-such-command has not been found", str(err)
    else:
        raise AssertionError("no error for an unknown command")
    try:
        await qmp.execute("add", {"a": 1, "b": 999})
    except ExecuteError as err:
        assert err.error_class == "GenericError"
        assert str(err) == "Parameter 'b' expects uint8_t", str(err)
    else:
        raise AssertionError("no error for an out-of-range argument")
    assert (await qmp.execute("query-status"))["running"] is True

    # Many calls in flight at once, matched by id.
    results = await asyncio.gather(*(qmp.execute("add", {"a": i}) for i in range(500)))
    assert results == list(range(500)), results[:10]

    # Out of band (qemu.qmp enables oob when the greeting offers it).
    assert await qmp.execute("oob-ping", oob=True) == "pong"

    await qmp.disconnect()
    print("qemu.qmp: 9 checks passed")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
