"""Term dates, one TOML file per academic year (``<start year>.toml``: 2025.toml is 2025/26).

Read by ``gateway.sla.calendars`` for school-day clocks. The files here are the embedded
default: representative dates in a typical English local-authority pattern, not any one
authority's published calendar. An authority passes its own directory (or parsed files) to
``gateway.sla.calendars.load_school_calendar`` instead. The shape of a file is described at the
top of each one.
"""
