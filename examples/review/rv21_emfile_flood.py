#!/usr/bin/env python3
"""Reviewer's reproduction (issue 21): a connection flood that exhausts the echo server's fds
before it has served anyone bricks it for good, even after the clients go away.

Run from the repository root after `mvn -B -o -q verify -pl examples -am -DskipTests`:
    python3 examples/review/rv21_emfile_flood.py          # flood before anyone was served
    python3 examples/review/rv21_emfile_flood.py --warm   # one client served first
Exit 0: the server recovered (expected). Exit 1: it did not (observed on main: classes initialised
lazily on the first read / the first log line -- sun.nio.ch.FileDispatcherImpl, io.aioco.LoopLog --
fail their static initialisers with EMFILE and stay unusable: NoClassDefFoundError for every
later connection).
"""
import socket, subprocess, sys, time

PORT = 17111
FDS = 100          # the server's fd limit (ulimit -n in the child)
FLOOD = 90         # clients that connect before the server reads anything

srv = subprocess.Popen(
    ["bash", "-c", "ulimit -n %d; exec java -cp runtime/target/aioco-runtime.jar:"
     "examples/target/aioco-examples.jar io.aioco.examples.echo.EchoServer %d 1" % (FDS, PORT)],
    stdout=subprocess.PIPE, stderr=open("/tmp/rv21-emfile.err", "w"))
try:
    print(srv.stdout.readline().decode().strip())
    if len(sys.argv) > 1 and sys.argv[1] == "--warm":  # one client served first: lazy classes loaded
        w = socket.create_connection(("127.0.0.1", PORT)); w.sendall(b"w"); w.recv(1); w.close()
    flood = [socket.create_connection(("127.0.0.1", PORT)) for _ in range(FLOOD)]
    time.sleep(3)  # let the server run out of fds (accept fails, its pause is 1 s)
    for s in flood:
        s.close()
    time.sleep(3)  # two accept pauses: the server has its fds back
    client = socket.create_connection(("127.0.0.1", PORT))
    client.settimeout(10)
    client.sendall(b"ping")
    try:
        got = client.recv(4)
    except OSError as e:
        got = repr(e)
    print("fresh client after the flood got:", got)
finally:
    srv.kill()
err = open("/tmp/rv21-emfile.err").read()
for line in sorted(set(l for l in err.splitlines() if "Error" in l or "Exception" in l))[:6]:
    print("server stderr:", line)
sys.exit(0 if got == b"ping" else 1)
