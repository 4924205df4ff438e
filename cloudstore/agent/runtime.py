"""The running agent: the clock listener and the uploader thread over one spool, started and stopped together."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from urllib.parse import urlsplit

import requests
from werkzeug.serving import BaseWSGIServer, make_server

from cloudstore.agent.config import AgentConfig
from cloudstore.agent.iclock import create_app
from cloudstore.agent.spool import Spool
from cloudstore.agent.uploader import Uploader

__all__ = ["Agent", "run_until_signalled"]

log = logging.getLogger(__name__)


class Agent:
    """Listener + uploader; `with Agent(config) as agent:` runs both, leaving the spool consistent on exit."""

    def __init__(self, config: AgentConfig, *, session: requests.Session | None = None) -> None:
        if not config.api_key:
            raise ValueError("the agent needs an API key")
        self.config = config
        self.spool = Spool(config.spool_dir)
        self.uploader = Uploader(spool=self.spool, config=config, session=session)
        app = create_app(spool=self.spool, config=config, on_punches=self.uploader.wake)
        try:
            self.server: BaseWSGIServer = make_server(config.listen_host, config.listen_port, app, threaded=True)
        except BaseException:
            self.uploader.session.close()
            self.spool.close()
            raise
        self._threads = [
            threading.Thread(target=self.server.serve_forever, args=(0.1,), name="agent-listener", daemon=True),
            threading.Thread(target=self.uploader.run, name="agent-uploader", daemon=True),
        ]

    @property
    def url(self) -> str:
        """Where clocks reach the agent."""
        return f"http://{self.server.server_address[0]}:{self.server.server_port}"

    def start(self) -> Agent:
        """Start listening and uploading."""
        for thread in self._threads:
            thread.start()
        log.info(
            "agent listening on %s for ZKTeco clocks, uploading to %s with API key %s",
            self.url,
            self.config.punches_url,
            self.config.api_key_fingerprint,
        )
        target = urlsplit(self.config.punches_url)
        if target.scheme == "http" and target.hostname not in ("127.0.0.1", "::1", "localhost"):
            log.warning("resource_api_url is plain HTTP: use https:// so the API key is not sent in clear")
        return self

    def stop(self) -> None:
        """Stop taking requests, let the upload in flight finish (or time out), and close the spool."""
        self.uploader.stop()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=self.config.request_timeout + 10)
        self.uploader.session.close()
        self.spool.close()
        log.info("agent stopped")

    def __enter__(self) -> Agent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_until_signalled(agent: Agent) -> None:
    """Run the agent in the foreground until SIGTERM or SIGINT."""
    stopping = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stopping.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with agent:
            while not stopping.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
