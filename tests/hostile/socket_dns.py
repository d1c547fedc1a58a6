# expect: sandbox_violation
# expect-os: crash
# why: name resolution is network access; there is no resolver inside either
import socket


def answer():
    return 42


socket.getaddrinfo("example.com", 443)
