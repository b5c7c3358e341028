"""The wire format between the trusted grader and the sandboxed student process: plain data only.

Messages are length-prefixed UTF-8 JSON. Arrays travel as raw float64 bytes (base64) with their original
dtype and shape beside them. Nothing is ever pickled, so reading a message can never run code.

This file is self-contained (standard library only): it is mounted read-only into the sandbox next to
worker.py, and the trusted side imports it as autograder.sandbox.protocol.
"""

from __future__ import annotations

import json
import socket
import struct

HEADER = struct.Struct(">I")


class ErrorKind:
    """The kinds of failed call or cell the grader itself names (any other kind is the class name of the
    student's own exception), named once: the sandbox and the trusted side both use these."""

    MISSING = "Missing"  # the graded function is not defined in the notebook
    NOT_CALLABLE = "NotCallable"  # the name is bound to something that is not a function
    BAD_REQUEST = "BadRequest"  # the hidden test asked for something the sandbox cannot do (a grader bug)
    TIMEOUT = "Timeout"  # a cell or call ran past its wall-clock limit
    CRASHED = "Crashed"  # the student's process ended during the call
    UNAVAILABLE = "Unavailable"  # no process to call into (unreadable notebook, no sandbox, budget used up)
    MALFORMED = "Malformed"  # the reply broke the protocol (student code wrote to the connection)
    NOT_CALLED_AGAIN = "NotCalledAgain"  # an earlier call to the function ended the process or never returned
    TOO_LARGE = "TooLarge"  # the reply holds more values or bytes than the grader decodes
    NOT_IMPLEMENTED = "NotImplementedError"  # the released stub, untouched


MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a reply bigger than this is a protocol error, not a result
# Objects and lists in one message, counted by their opening brackets before it is parsed: parsed, each costs
# the reader about 250 bytes, so 64 MB of `{"kind":"none"}` (4 million of them) would cost a GB. Far above
# what the trusted side decodes of one reply (testkit/values.py, MAX_REPLY_VALUES), which says "too large to
# grade" more kindly; a message past this one was not written by the sandbox's own describe.
MAX_MESSAGE_VALUES = 500_000

# Kinds of values a message may describe; anything else is rejected by the trusted decoder.
VALUE_KINDS = frozenset(
    {
        "none",
        "bool",
        "int",
        "float",
        "float_subclass",
        "str",
        "list",
        "tuple",
        "dict",
        "tensor",
        "ndarray",
        "module",
        "optimizer",
        "generator",
        "opaque",
    }
)
# Dtypes whose values can travel as float64 without losing meaning.
NUMERIC_DTYPES = frozenset(
    {"float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"}
)


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message."""


class PeerGone(ProtocolError):
    """The connection closed: the other process exited, crashed or was killed."""


def send(sock: socket.socket, message: dict) -> None:
    data = json.dumps(message, separators=(",", ":")).encode()
    sock.sendall(HEADER.pack(len(data)) + data)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise PeerGone("the sandboxed process closed the connection")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def receive(sock: socket.socket) -> dict:
    (size,) = HEADER.unpack(_recv_exactly(sock, HEADER.size))
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {size} bytes exceeds the {MAX_MESSAGE_BYTES}-byte limit")
    data = _recv_exactly(sock, size)
    if data.count(b"{") + data.count(b"[") > MAX_MESSAGE_VALUES:  # braces in strings count too: an upper bound
        raise ProtocolError(f"message holds over {MAX_MESSAGE_VALUES:,} values, a value too large to grade")
    try:
        message = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"message is not JSON: {str(exc)[:200]}") from None
    except (RecursionError, ValueError):  # nested too deeply, or an integer too long to convert
        raise ProtocolError("message is not plain JSON data") from None
    if not isinstance(message, dict):
        raise ProtocolError("message is not a JSON object")
    return message
