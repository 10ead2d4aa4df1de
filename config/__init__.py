"""Settings and policies: everything an operator may change without touching code.

The policy files (topics, taxonomy, SLA limits, escalation ladder, forces) are data in this
folder; the modules here only load and check them.
"""
