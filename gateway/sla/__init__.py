"""Service levels: statutory clocks and the calendars they count in."""
