"""Test helpers: real QEMU processes, a fake QMP server, running the shell.
Test modules import from here, never from each other."""
