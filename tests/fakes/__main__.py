"""The fake X API by hand, on plain HTTP on 127.0.0.1:

    PYTHONPATH=tests .venv/bin/python -m fakes --port 8080 [--fault status:503 ...]

It prints the key and secret it accepts, and an OAuth 2.0 client with a refresh token;
``--help`` lists the faults it can be told to act out.
"""

from __future__ import annotations

import argparse
import contextlib

from . import x, x_oauth2
from .server import Server


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m fakes",
        description=x.__doc__,
        epilog="faults, for each option that queues them, in the order queued (then normal "
        "answers):\n" + x.Handler.vocabulary(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (8080)")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        help="queue a fault for oauth2/token, e.g. --fault status:503",
    )
    parser.add_argument(
        "--revoke-fault", action="append", default=[], help="likewise, for revocations"
    )
    x_oauth2.add_arguments(parser)
    args = parser.parse_args()
    fake = x.FakeX(faults=args.fault, revoke_faults=args.revoke_fault)
    oauth2 = x_oauth2.configure(fake.oauth2, args)
    httpd = Server(fake, port=args.port)
    url = httpd.url
    print(
        f"Fake X API on {url} (Ctrl-C stops it). It accepts:\n"
        f"  X_API_KEY={x.API_KEY}\n  X_API_SECRET={x.API_SECRET}\n"
        f"Try: X_API_KEY=... X_API_SECRET=... xbearer --api-url {url}\n{oauth2}",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        httpd.serve_forever()


if __name__ == "__main__":
    main()
