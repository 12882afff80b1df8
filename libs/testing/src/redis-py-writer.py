"""redis-py through Sentinel endpoints with its default options: RPUSH <key> <seq> one at a time.

Argument: JSON {"sentinels": [{"host", "port"}], "name", "key"}. Prints "ack <seq> <ms>" per acknowledged
write (with the times it was sent and acknowledged, ms) and "err <message>" per failed one (then waits 20 ms and writes the next number), until SIGTERM.
"""
import json
import signal
import sys
import time

from redis.sentinel import Sentinel

config = json.loads(sys.argv[1])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
sentinel = Sentinel([(s["host"], s["port"]) for s in config["sentinels"]])
master = sentinel.master_for(config["name"])
seq = 0
while True:
    seq += 1
    sent = int(time.time() * 1000)
    try:
        master.rpush(config["key"], seq)
        print(f"ack {seq} {sent} {int(time.time() * 1000)}", flush=True)
    except Exception as err:  # every failure is reported; the writer goes on, as an application would
        print(f"err {type(err).__name__}: {err}".replace("\n", " "), flush=True)
        time.sleep(0.02)
