"""The library's operations: the rules applied to the database, one transaction each.

Both the HTTP API and the staff console call these; neither decides a rule itself.
"""
