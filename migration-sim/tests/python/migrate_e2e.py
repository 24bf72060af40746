"""Migrate a guest of `migration-sim serve` with QEMU's Python client.

Usage: python migrate_e2e.py SOURCE_SOCKET DESTINATION_SOCKET

What a management tool does with two QEMUs: turn the `events`
capability on at both ends, set parameters, start `migrate`, poll
`query-migrate` on the source until it completes while collecting the
MIGRATION events, then read both sides' final statistics. Exits non-zero
on any failure; prints one summary line on success.
"""

import asyncio
import sys

from qemu.qmp import ExecuteError, QMPClient

DEST_RAM = {"transferred", "remaining", "total", "page-size", "normal",
            "normal-bytes", "duplicate", "mbps", "pages-per-second"}


def drain(listener, into):
    """Move the events received so far from `listener` to `into`."""
    into.extend(listener.clear())


async def main(src_path: str, dst_path: str) -> None:
    src = QMPClient("source")
    dst = QMPClient("destination")
    await src.connect(src_path)
    await dst.connect(dst_path)
    assert (await src.execute("query-version"))["qemu"]["major"] == 10

    caps = [{"capability": "events", "state": True}]
    await src.execute("migrate-set-capabilities", {"capabilities": caps})
    await dst.execute("migrate-set-capabilities", {"capabilities": caps})
    await src.execute("migrate-set-parameters",
                      {"max-bandwidth": 2 << 30, "downtime-limit": 400,
                       "avail-switchover-bandwidth": 1 << 30})
    params = await src.execute("query-migrate-parameters")
    assert params["max-bandwidth"] == 2 << 30, params
    assert params["downtime-limit"] == 400, params
    listed = await src.execute("query-migrate-capabilities")
    assert {"capability": "events", "state": True} in listed, listed

    # A refusal as QEMU words it, and nothing started.
    try:
        await src.execute("migrate-set-parameters", {"max-cpu-throttle": 100})
    except ExecuteError as err:
        assert err.error_class == "GenericError", err.error_class
    else:
        raise AssertionError("max-cpu-throttle 100 accepted")
    assert await src.execute("query-migrate") == {}

    src_events, dst_events = [], []
    samples = []
    with src.listener(("MIGRATION", "MIGRATION_PASS", "STOP")) as sl, \
            dst.listener(("MIGRATION", "RESUME")) as dl:
        await src.execute("migrate", {"uri": "tcp:192.0.2.2:4444"})
        for _ in range(20000):
            info = await src.execute("query-migrate")
            samples.append(info)
            drain(sl, src_events)
            if info["status"] in ("completed", "failed", "cancelled"):
                break
            await asyncio.sleep(0.005)
        for _ in range(20000):
            dinfo = await dst.execute("query-migrate")
            if dinfo.get("status") == "completed":
                break
            await asyncio.sleep(0.005)
        for _ in range(50):
            await asyncio.sleep(0.005)
            drain(sl, src_events)
            drain(dl, dst_events)

    final = samples[-1]
    assert final["status"] == "completed", final
    migration = [e["data"]["status"] for e in src_events if e["event"] == "MIGRATION"]
    assert migration == ["setup", "active", "device", "completed"], migration
    passes = [e["data"]["pass"] for e in src_events if e["event"] == "MIGRATION_PASS"]
    assert passes == list(range(1, final["ram"]["dirty-sync-count"] + 1)), passes
    assert "STOP" in [e["event"] for e in src_events]
    statuses = [s["status"] for s in samples]
    assert "active" in statuses, statuses
    for s in samples[:-1]:
        assert "device-state-times" not in s, s

    # The source's final statistics.
    ram = final["ram"]
    assert ram["remaining"] == 0 and final["remaining"] == 0, final
    assert ram["normal-bytes"] == ram["normal"] * ram["page-size"], ram
    assert final["downtime"] > 0 and "expected-downtime" not in final, final
    expect = ram["transferred"] * 8 / (final["total-time"] - final["setup-time"]) / 1000
    assert abs(ram["mbps"] - expect) <= 1e-9 * expect, (ram["mbps"], expect)
    times = final["device-state-times"]
    assert times and all(t["save-time"] > 0 for t in times), times

    # The destination's, with only the members it can measure.
    dinfo = await dst.execute("query-migrate")
    assert set(dinfo) == {"status", "total-time", "ram"}, dinfo
    dram = dinfo["ram"]
    assert set(dram) == DEST_RAM, dram
    assert dram["remaining"] == 0 and dram["total"] == ram["total"], dram
    dexpect = dram["transferred"] * 8 / dinfo["total-time"] / 1000
    assert abs(dram["mbps"] - dexpect) <= 1e-9 * dexpect, (dram["mbps"], dexpect)
    pps = (dram["normal"] + dram["duplicate"]) * 1000 // dinfo["total-time"]
    assert dram["pages-per-second"] == pps, (dram, pps)
    dmig = [e["data"]["status"] for e in dst_events if e["event"] == "MIGRATION"]
    assert dmig == ["active", "completed"], dmig
    assert "RESUME" in [e["event"] for e in dst_events], dst_events

    assert await dst.execute("query-status") == {"running": True, "status": "running"}
    text = await src.execute("human-monitor-command", {"command-line": "info migrate"})
    assert text.startswith("Status: \t\tcompleted\r\n"), text
    assert "Remaining (bytes): \t0\r\n" in text, text
    assert await src.execute("human-monitor-command",
                             {"command-line": "bogus"}) == "unknown command: 'bogus'\r\n"

    print(f"migrate e2e: ok: {len(samples)} samples, {len(src_events)} source events, "
          f"total-time {final['total-time']} ms, downtime {final['downtime']} ms, "
          f"{len(times)} device times, destination {dram['transferred']} bytes")
    await dst.disconnect()
    # Ends the server.
    await src.execute("quit")
    try:
        await src.disconnect()
    except (EOFError, ConnectionResetError):
        # The server closes the socket after answering 'quit', as QEMU does;
        # qemu.qmp reports that end of stream when it is seen first.
        pass


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
