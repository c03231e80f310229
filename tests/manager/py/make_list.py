"""Creates a managed list on a Deno server and exits without running the
proxy finalizers (os._exit), so the list keeps its reference and the Deno
side can find it. Usage: make_list.py HOST PORT KEY_HEX"""

import os
import sys
from multiprocessing.managers import SyncManager

host, port, keyhex = sys.argv[1:4]
m = SyncManager(address=(host, int(port)), authkey=bytes.fromhex(keyhex))
m.connect()
lst = m.list([1, "two", 3])
print("DONE", flush=True)
os._exit(0)
