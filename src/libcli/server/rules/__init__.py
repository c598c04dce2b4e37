"""The library's rules as plain functions over plain data; each cites its rule number.

Nothing here touches the database or the network, so each rule is tested on its own
(tests/server/test_rules.py) and decided in exactly one place.
"""
