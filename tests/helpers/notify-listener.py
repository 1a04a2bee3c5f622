# A stand-in for systemd's notify socket: prints each datagram on one line (newlines as '|').
# recv() without ancillary space drops passed fds, which closes them and releases a BARRIER=1 waiter.
import os, socket, sys

path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
print("LISTENING", flush=True)
while True:
    data = sock.recv(65536)
    text = data.decode("utf-8", "replace").strip().replace("\n", "|")
    if text:
        print(text, flush=True)
