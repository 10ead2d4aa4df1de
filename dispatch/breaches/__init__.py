"""Predicted breaches: when each open task will be done, whether it will pass its limit, and
who on shift has the slack to take it instead.

`estimator` is the pure model (measured service times, each worker's queue, the recent
arrivals that will jump ahead); `history` reads its inputs from PostgreSQL.
"""
