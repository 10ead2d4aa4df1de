"""Notices: what the escalation ladder sends to a desk, and how the desk receives and answers it.

`models` (tables, kinds, states, desks), `rules` (pure: which notices an event makes, the
notice state machine, climbing), `service` (SQL), `flows` (the side effects, one transaction
each), `channels` (SMS, WeCom, DingTalk, email sinks).
"""
