"""Writers of one SQLite file take turns: a turn held by a thread or by another process holds the others back."""

from __future__ import annotations

import subprocess
import sys
import threading

from sqlalchemy import create_engine

from shared.db import write_turn

_HOLD_IN_ANOTHER_PROCESS = """
import sys
from sqlalchemy import create_engine
from shared.db import write_turn
with write_turn(create_engine(sys.argv[1])):
    print("holding", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


def test_a_thread_waits_for_the_turn_another_thread_holds(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    events: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def first() -> None:
        with write_turn(engine):
            holding.set()
            release.wait(10)
            events.append("first done")

    def second() -> None:
        holding.wait(10)
        with write_turn(engine):
            events.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    holding.wait(10)
    threads[1].join(0.3)
    assert events == [], "the second writer got in while the first held its turn"
    release.set()
    for thread in threads:
        thread.join(10)
    assert events == ["first done", "second in"]


def test_a_process_waits_for_the_turn_another_process_holds(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with subprocess.Popen(
        [sys.executable, "-c", _HOLD_IN_ANOTHER_PROCESS, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as other:
        assert other.stdout.readline().strip() == "holding"
        entered = threading.Event()

        def take() -> None:
            with write_turn(create_engine(url)):
                entered.set()

        taker = threading.Thread(target=take)
        taker.start()
        assert not entered.wait(0.3), "this process got in while the other held its turn"
        other.stdin.write("\n")
        other.stdin.flush()
        assert entered.wait(10)
        taker.join(10)
        assert other.stdout.readline().strip() == "released"


def test_other_databases_take_no_turn():
    with write_turn(create_engine("sqlite://")), write_turn(create_engine("sqlite://")):
        pass  # in-memory: nothing to share, and nesting does not wait
