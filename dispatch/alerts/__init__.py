"""CAP warnings through their life: the life-cycle records of `alerts.cap` (schemas/cap_record.py)
recorded, references resolved to the case the Alert opened, Update and Cancel applied through
the case commands, expired alerts closed (README: "CAP alerts through their life")."""
