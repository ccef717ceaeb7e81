"""Reference parse of HTTP/1.1 request streams with h11 (Debian's python3-h11): what a strict server makes of
the bytes. Reads one JSON array of base64 byte strings on stdin; writes one JSON array with, for each, the
complete requests h11 read (method, target, lower-case headers, body, trailers dropped) and whether it stopped on
an error."""
import base64
import json
import sys

import h11


def parse(data):
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=70 * 1024)
    conn.receive_data(data)
    requests = []
    current = None
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                break
            if isinstance(event, h11.ConnectionClosed):
                break
            if isinstance(event, h11.Request):
                current = {
                    "method": event.method.decode("latin1"),
                    "target": event.target.decode("latin1"),
                    "version": event.http_version.decode("latin1"),
                    "headers": [[n.decode("latin1"), v.decode("latin1")] for n, v in event.headers],
                    "body": b"",
                }
            elif isinstance(event, h11.Data):
                current["body"] += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                current["body"] = base64.b64encode(current["body"]).decode()
                requests.append(current)
                current = None
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    break
                conn.send(h11.Response(status_code=200, headers=[("content-length", "0")]))
                conn.send(h11.EndOfMessage())
                conn.start_next_cycle()
        return {"requests": requests, "error": None}
    except (h11.RemoteProtocolError, h11.LocalProtocolError) as err:
        return {"requests": requests, "error": str(err)}


def main():
    cases = json.load(sys.stdin)
    json.dump([parse(base64.b64decode(c)) for c in cases], sys.stdout)


main()
