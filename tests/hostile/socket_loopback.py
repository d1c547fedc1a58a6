# expect: sandbox_violation
# expect-os: crash
# why: connect is denied; without the guard the new network namespace has no route to the
# host's loopback listener
import socket


def answer():
    return 42


conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
conn.settimeout(2)
conn.connect(("127.0.0.1", int("__PORT__")))
conn.sendall(b"exfiltrated")
