"""The library backend: the reservation service behind the patron CLI (libcli-server)."""
