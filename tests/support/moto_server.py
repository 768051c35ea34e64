"""moto's server on 127.0.0.1, on a port the kernel picks when it binds.

Choosing a free port and then asking moto_server to bind it leaves a gap in
which another test's server can take the port: the wait then sees the other
server listening, this one exits, and the test talks to a port nobody serves
(the likely cause of one CI failure: "connection refused" just after the
wait). Binding port 0 closes the gap. Prints "READY <port>" once it listens;
exits when its stdin closes (the test, or the test process, is gone) or
after --lifetime seconds. moto's request log goes to stderr.
"""
import argparse
import os
import sys
import threading


def wait_for_stdin_to_close(lifetime):
    """Returns when stdin closes (the parent is gone) or after `lifetime` seconds."""
    stdin_closed = threading.Event()

    def watch_stdin():
        sys.stdin.buffer.read()
        stdin_closed.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    stdin_closed.wait(lifetime)


def main():
    # Here, not at the top: fault_proxy.py imports this module for the function above.
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lifetime", type=float, default=900.0, help="seconds before exiting anyway")
    args = p.parse_args()

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server.get_host_and_port()[1]
    # What moto_server sets for the URLs moto writes into its answers.
    os.environ["MOTO_PORT"] = str(port)
    print("READY %d" % port, flush=True)
    wait_for_stdin_to_close(args.lifetime)
    server.stop()


if __name__ == "__main__":
    main()
