"""Serving the emulator over HTTPS on loopback, with its own certificate authority.

simple-salesforce only speaks ``https://``, so the emulator is a real TLS server:
a local CA made by trustme signs a certificate for ``127.0.0.1`` and
``localhost``; clients trust ``ca.pem``. Certificates are made once per data
directory and reused, so a restarted emulator is trusted by the same bundle.
cheroot serves the WSGI app with a thread pool and HTTP keep-alive.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import trustme
from cheroot.ssl.builtin import BuiltinSSLAdapter
from cheroot.wsgi import Server

from connector.emulator.app import EmulatorApp
from connector.emulator.org import Org
from connector.emulator.store import write_private_text

CA_FILE = "ca.pem"
CERT_FILE = "server_cert.pem"
KEY_FILE = "server_key.pem"
DEFAULT_THREADS = 16


def ensure_certificates(data_dir: Path) -> tuple[Path, Path, Path]:
    """(CA bundle, server certificate, server key); the key file is 0600."""
    ca_path, cert_path, key_path = data_dir / CA_FILE, data_dir / CERT_FILE, data_dir / KEY_FILE
    if ca_path.exists() and cert_path.exists() and key_path.exists():
        return ca_path, cert_path, key_path
    ca = trustme.CA(organization_name="connector local org emulator")
    leaf = ca.issue_cert("127.0.0.1", "localhost", "::1",
                         organization_name="connector local org emulator")
    write_private_text(key_path, leaf.private_key_pem.bytes().decode())
    cert_path.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    ca_path.write_bytes(ca.cert_pem.bytes())
    return ca_path, cert_path, key_path


class EmulatorServer:
    """The HTTPS server around one org; ``start`` serves from a background thread."""

    def __init__(self, org: Org, *, host: str = "127.0.0.1", port: int = 0,
                 threads: int = DEFAULT_THREADS) -> None:
        self.org = org
        self.host = host
        self.app = EmulatorApp(org)
        self.ca_path, cert_path, key_path = ensure_certificates(org.data_dir)
        self._server = Server((host, port), self.app, numthreads=threads,
                              server_name="salesforce-emulator", timeout=30,
                              shutdown_timeout=2)
        self._server.ssl_adapter = BuiltinSSLAdapter(str(cert_path), str(key_path))
        self._thread: threading.Thread | None = None
        self.port = port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    def bind(self) -> None:
        """Listen (port 0 picks a free port); connections wait until ``serve``."""
        self._server.prepare()
        self.port = int(self._server.bind_addr[1])
        # cheroot skips SO_REUSEADDR for port 0; set it now so accepted connections
        # inherit it and a restart can bind the same port while they linger.
        listener = self._server.socket
        if listener is not None:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.org.base_url = self.url

    def serve(self) -> None:
        """Serve in the calling thread until ``stop``."""
        self._server.serve()

    def start(self) -> None:
        self.bind()
        self._thread = threading.Thread(target=self.serve, name="emulator-https", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
