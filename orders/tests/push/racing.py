"""Sending pushes at the same instant over real HTTP, for the race tests of every push kind."""

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

# Loopback needs no proxy, and a configured one could not reach the live server anyway.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_post(url: str, body: str, content_type: str) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 (the live server's own http URL)
        url, data=body.encode("utf-8"), headers={"Content-Type": content_type}, method="POST"
    )
    try:
        with OPENER.open(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, {"raw": raw.decode("utf-8", "replace")}


def post_all_at_once(url: str, bodies: list[tuple[str, str]]) -> list[tuple[int, dict]]:
    """POST every body from its own thread, all released by one barrier."""
    barrier = threading.Barrier(len(bodies))

    def send(item: tuple[str, str]) -> tuple[int, dict]:
        barrier.wait(timeout=30)
        return http_post(url, *item)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, bodies))
