"""Serving the sandbox: werkzeug's threaded server, with keep-alive connections like the real API."""

import io

from werkzeug import serving

MAX_BUFFERED_BODY = 1 << 20


class KeepAliveRequestHandler(serving.WSGIRequestHandler):
    """Werkzeug's request handler, but HTTP/1.1 connections stay open between requests.

    Werkzeug always answers "Connection: close", and after each response it reads
    and discards whatever the client sent next. This handler reads the (small) body
    before the app runs and hides the socket from that discarding, so the next
    request line stays where it belongs; that lets tests see a client's connection
    reuse. Chunked or oversized bodies still close the connection.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are written separately
    timeout = 60  # seconds an idle connection may stay open
    _keep_alive = False

    def make_environ(self):
        environ = super().make_environ()
        self._keep_alive = False
        if environ.get("wsgi.input_terminated"):  # chunked body: read by the app as it comes
            return environ
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return environ
        if 0 <= length <= MAX_BUFFERED_BODY:
            environ["wsgi.input"] = io.BytesIO(self.rfile.read(length))
            self._keep_alive = True
            self._socket_rfile, self.rfile = self.rfile, io.BytesIO()  # see run_wsgi
        return environ

    def run_wsgi(self):
        self._socket_rfile = self.rfile
        try:
            super().run_wsgi()
        finally:
            self.rfile = self._socket_rfile  # the next request is read from the socket again

    def send_header(self, keyword, value):
        if (keyword.lower(), value.lower()) == ("connection", "close") and (
            self._keep_alive and not self.close_connection
        ):
            return  # HTTP/1.1 keeps the connection open unless told otherwise
        super().send_header(keyword, value)


def make_server(host, port, app):
    """A threaded werkzeug server for ``app`` (port 0: any free port); call ``serve_forever()``."""
    return serving.make_server(host, port, app, threaded=True, request_handler=KeepAliveRequestHandler)


def run(host, port, app):
    """Serve ``app`` until interrupted."""
    serving.run_simple(host, port, app, threaded=True, request_handler=KeepAliveRequestHandler)
