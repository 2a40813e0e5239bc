"""qmpshell: an interactive, schema-aware shell for the QEMU Machine Protocol."""

__version__ = "0.1.0"
