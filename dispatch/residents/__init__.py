"""The resident channel: a resident reports (the `resident` source), follows the report by its
tracking code, and answers the return visit (`dispatch.revisits`) when the case closes.
"""
