"""The local runner: the ``pampax`` CLI and the offline emulation harness around the same core."""

import os

# pydantic looks up plugins in every installed distribution's entry points when the first model is
# built (~50 ms of a cold CLI call); pampax uses none. Set the variable to "" to bring plugins back.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
