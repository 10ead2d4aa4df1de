"""回访 (return visits): after a case closes, each report's reporter is asked how it went; a
dissatisfied answer about the handling reopens the case (返工) by the policy in config/revisits.toml.
"""
