"""Talking to QEMU: the QMP protocol and its drivers.  Knows no schema and no lines."""
