"""Click commands only: parse, call the client, render. Imports only click at module level
(plus libcli's stdlib-only i18n), so `libcli --help` and TAB completion stay instant."""
