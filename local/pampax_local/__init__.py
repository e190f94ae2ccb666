"""The local runner: the ``pampax`` CLI and the offline emulation harness around the same core."""
