"""`cloudstore demo`: the three guides (seeds 000, 001, 002) walked through the product's real HTTP interfaces,
step by step, against a running `cloudstore up`. The steps are in `cloudstore.demo.steps`, imported only when
the command runs, so that the other commands (the clock agent's above all) load none of this."""

from __future__ import annotations

from cloudstore.demo.command import demo

__all__ = ["demo"]
