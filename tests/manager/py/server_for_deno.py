"""A CPython SyncManager server for Deno clients (`protocol: "cpython"`).

Usage: server_for_deno.py AUTHKEY_HEX

Prints {"port": N} once listening on 127.0.0.1, then serves until killed.
Besides SyncManager's types it registers the docs' remote-manager queue
(`get_queue`), `get_thrower` (a method raising a class of this module) and
`get_stats` (the server's live object count, to check decrefs).
"""

import json
import queue
import sys
from multiprocessing import current_process
from multiprocessing.managers import SyncManager


class MyError(Exception):
    pass


class Thrower:
    def boom(self):
        raise MyError("boom", 42)

    def echo(self, *args):
        return args


class Stats:
    def objects(self):
        # Objects other than the Stats one itself.
        return len(current_process()._manager_server.id_to_refcount) - 1


shared = queue.Queue()


class QueueManager(SyncManager):
    pass


QueueManager.register("get_queue", callable=lambda: shared)
QueueManager.register("get_thrower", callable=Thrower)
QueueManager.register("get_stats", callable=Stats)


def main():
    key = bytes.fromhex(sys.argv[1])
    m = QueueManager(address=("127.0.0.1", 0), authkey=key)
    server = m.get_server()
    print(json.dumps({"port": server.address[1]}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
