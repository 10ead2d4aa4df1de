"""Finding a case (by a source's reference, a report id, address text or a reporter's phone)
and exporting case lists and KPI tables as spreadsheets."""
