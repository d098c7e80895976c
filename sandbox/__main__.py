"""``python -m sandbox``: run the sandbox on werkzeug's threaded server."""

import argparse
import logging
import os
import sys

from . import create_app
from .server import run


def parse_args(argv=None, environ=os.environ):
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Run the MessageBird-compatible SMS sandbox."
    )
    parser.add_argument("--host", default=environ.get("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(environ.get("SANDBOX_PORT", "8025")))
    parser.add_argument("--access-key", default=environ.get("SANDBOX_ACCESS_KEY"),
                        help="the key clients send as 'Authorization: AccessKey KEY'")
    parser.add_argument("--signing-key", default=environ.get("SANDBOX_SIGNING_KEY"),
                        help="signs status reports; without it reports go out unsigned")
    parser.add_argument("--inbound-url", default=environ.get("SANDBOX_INBOUND_URL"),
                        help="where POST /_sandbox/reply forwards a patient's reply (the portal's inbound webhook)")
    parser.add_argument("--report-delay", type=float,
                        default=float(environ.get("SANDBOX_REPORT_DELAY", "0.2")))
    args = parser.parse_args(argv)
    if not args.access_key:
        parser.error("an access key is required (--access-key or SANDBOX_ACCESS_KEY)")
    return args


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not args.signing_key:
        logging.warning("no signing key: status reports are sent without a signature")
    app = create_app(args.access_key, args.signing_key, args.report_delay, inbound_url=args.inbound_url)
    run(args.host, args.port, app)


if __name__ == "__main__":
    sys.exit(main())
