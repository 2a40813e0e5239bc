"""What QEMU accepts: the model, the bundled table, the spec reader, the live
schema, its disk cache and schema files.  No sockets, no lines."""
