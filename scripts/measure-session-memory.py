#!/usr/bin/env python3
"""Resident memory of a relay node per ACTIVE session (issue 12, item 10): the figure Relay__MaxSessions in k8s/relay.yaml
is derived from. Starts the published node (embedded cluster, loopback only), an echo VNC stand-in, then N WebSocket
sessions that each keep one 16 KiB frame in flight (send, wait for the echo, send again) for a while, sampling the
node's VmRSS. Prints the baseline, the peak and the per-session difference for each N.

    [FRAME_KIB=64] scripts/measure-session-memory.py artifacts/vnc-relay/vnc-relay 250 500 1000

Bounded: loopback only, each tier runs a fixed number of seconds, then everything stops.
"""
import asyncio, base64, os, signal, socket, subprocess, sys, tempfile, time

FRAME = int(os.environ.get("FRAME_KIB", "16")) * 1024
SECONDS = 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def echo(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def session(port, token, stop, moved):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /websockify?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Protocol: binary\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError(head.split(b"\r\n")[0].decode())
    # A zero masking key leaves the payload as it is: valid for a client frame, and no XOR in Python.
    frame = bytes([0x82, 0xFF]) + FRAME.to_bytes(8, "big") + b"\0\0\0\0" + os.urandom(FRAME)
    while not stop.is_set():
        writer.write(frame)
        await writer.drain()
        got = 0
        while got < FRAME:
            b0, b1 = await reader.readexactly(2)
            if b0 & 0x0F == 0x8:
                raise RuntimeError("closed by the relay")
            length = b1 & 0x7F
            if length == 126:
                length = int.from_bytes(await reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await reader.readexactly(8), "big")
            await reader.readexactly(length)
            got += length
        moved[0] += FRAME
    writer.close()


async def tier(port, pid, count):
    stop = asyncio.Event()
    moved = [0]
    tasks = []
    for i in range(count):
        tasks.append(asyncio.create_task(session(port, "mem", stop, moved)))
        if i % 50 == 49:
            await asyncio.sleep(0.2)
    peak = 0
    start = time.monotonic()
    while time.monotonic() - start < SECONDS:
        await asyncio.sleep(0.5)
        peak = max(peak, rss_kib(pid))
        failed = [t for t in tasks if t.done() and t.exception()]
        if failed:
            raise failed[0].exception()
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return peak, moved[0] / SECONDS / 2**20


async def main(relay, counts):
    server = await asyncio.start_server(echo, "127.0.0.1", 0, limit=2**20)
    target = server.sockets[0].getsockname()[1]
    work = tempfile.mkdtemp(prefix="ovc-mem-")
    with open(f"{work}/tokens.cfg", "w") as f:
        f.write(f"mem: 127.0.0.1:{target}\n")
    with open(f"{work}/admin-token", "w") as f:
        f.write("measure-admin-token-0123456789")
    port = free_port()
    env = dict(os.environ, Relay__Listen=f"127.0.0.1:{port}", Relay__AdminListen=f"127.0.0.1:{free_port()}",
               Relay__AgentListen=f"127.0.0.1:{free_port()}", Orleans__Endpoints__SiloPort=str(free_port()),
               Admin__TokenFile=f"{work}/admin-token", Limits__MaxSessionsPerClient="0", Limits__MaxSessionsPerToken="0",
               Limits__HandshakesPerSecond="0", Relay__MaxSessions="0", Serilog__MinimumLevel__Default="Warning")
    log = open(f"{work}/node.log", "w")
    node = subprocess.Popen([relay, f"--target-config={work}/tokens.cfg"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        await asyncio.sleep(8)
        base = rss_kib(node.pid)
        print(f"baseline RSS {base / 1024:.1f} MiB (node log {work}/node.log)")
        for count in counts:
            peak, rate = await tier(port, node.pid, count)
            print(f"{count} active sessions: peak RSS {peak / 1024:.1f} MiB, {(peak - base) / count:.1f} KiB per session over the baseline, "
                  f"{rate:.0f} MiB/s echoed")
            await asyncio.sleep(3)
    finally:
        node.send_signal(signal.SIGTERM)
        node.wait(30)
        server.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], [int(n) for n in sys.argv[2:]] or [250, 500, 1000]))
